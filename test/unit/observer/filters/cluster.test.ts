import assert from 'node:assert/strict';
import { matches, rejects } from './helpers';

describe('observer/filters: cluster', () => {
  const flow = { source: { clusterName: 'frankfurt', labels: ['k8s:app=billing'] }, destination: { clusterName: 'zurich' } };

  it('matches the source and destination cluster by exact name', () => {
    assert.equal(matches({ sourceClusterName: ['frankfurt'] }, flow), true);
    assert.equal(matches({ sourceClusterName: ['zurich', 'frankfurt'] }, flow), true);
    assert.equal(matches({ sourceClusterName: ['zurich'] }, flow), false);
    assert.equal(matches({ sourceClusterName: ['frank'] }, flow), false);
    assert.equal(matches({ destinationClusterName: ['zurich'] }, flow), true);
    assert.equal(matches({ destinationClusterName: ['frankfurt'] }, flow), false);
  });

  it('an endpoint nobody named belongs to no cluster', () => {
    assert.equal(matches({ sourceClusterName: ['frankfurt'] }, { destination: { clusterName: 'zurich' } }), false);
    assert.equal(matches({ destinationClusterName: ['zurich'] }, { source: { clusterName: 'zurich' }, destination: { labels: ['reserved:world'] } }), false);
  });

  it('combines with a label selector on the same side', () => {
    assert.equal(matches({ sourceClusterName: ['frankfurt'], sourceLabel: ['app=billing'] }, flow), true);
    assert.equal(matches({ sourceClusterName: ['frankfurt'], sourceLabel: ['app=video'] }, flow), false);
  });

  it('refuses an empty cluster name', () => {
    rejects({ sourceClusterName: [''] }, /source_cluster_name: empty cluster name/);
    rejects({ destinationClusterName: ['zurich', ''] }, /destination_cluster_name: empty cluster name/);
  });
});
