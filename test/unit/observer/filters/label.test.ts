import assert from 'node:assert/strict';
import { matches, rejects } from './helpers';

describe('observer/filters: label', () => {
  const flow = {
    source: { labels: ['k8s:app=api', 'k8s:tier=backend', 'k8s:io.kubernetes.pod.namespace=billing', 'reserved:host'] },
    destination: { labels: ['k8s:app=db', 'container:version=3'] },
  };
  const src = (sel: string) => matches({ sourceLabel: [sel] }, flow);

  it('k=v, k==v and k!=v, with or without a source prefix', () => {
    assert.equal(src('app=api'), true);
    assert.equal(src('app==api'), true);
    assert.equal(src('k8s:app=api'), true);
    assert.equal(src('container:app=api'), false);
    assert.equal(src('any:app=api'), true);
    assert.equal(src('app!=api'), false);
    assert.equal(src('app!=web'), true);
    assert.equal(src('missing!=x'), true);
  });

  it('set-based in / notin and existence', () => {
    assert.equal(src('app in (web, api)'), true);
    assert.equal(src('app in (web,db)'), false);
    assert.equal(src('app notin (web,db)'), true);
    assert.equal(src('app'), true);
    assert.equal(src('!app'), false);
    assert.equal(src('!canary'), true);
    assert.equal(src('reserved:host'), true);
    assert.equal(src('k8s:io.kubernetes.pod.namespace=billing'), true);
  });

  it('ANDs requirements of one selector and ORs selectors of a list', () => {
    assert.equal(src('app=api,tier=backend'), true);
    assert.equal(src('app=api,tier in (frontend,edge)'), false);
    assert.equal(matches({ sourceLabel: ['app=web', 'tier=backend'] }, flow), true);
    assert.equal(matches({ destinationLabel: ['version>2'] }, flow), true);
    assert.equal(matches({ destinationLabel: ['version<3'] }, flow), false);
  });

  it('refuses selectors Kubernetes would refuse', () => {
    rejects({ sourceLabel: ['app='.concat('x'.repeat(64))] }, /invalid value/);
    rejects({ sourceLabel: ['a b'] }, /cannot parse/);
    rejects({ sourceLabel: ['app in (a'] }, /cannot parse|invalid/);
    rejects({ sourceLabel: ['-app=x'] }, /invalid key/);
    rejects({ sourceLabel: [''] }, /empty/);
    rejects({ destinationLabel: ['n>x'] }, /cannot parse/);
  });
});
