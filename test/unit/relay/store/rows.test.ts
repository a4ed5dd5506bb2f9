import assert from 'node:assert/strict';
import { appOf, canonicalIA } from '../../../../relay/store/rows';

describe('relay/store rows', () => {
  it('names the app from the usual Kubernetes labels, most specific first', () => {
    const ep = (labels: string[]) => ({ ID: 0, identity: 0, clusterName: '', namespace: '', labels, podName: '', workloads: [] });
    assert.equal(appOf(ep(['k8s:app=web', 'k8s:app.kubernetes.io/name=shop'])), 'shop');
    assert.equal(appOf(ep(['k8s:k8s-app=kube-dns'])), 'kube-dns');
    assert.equal(appOf(ep(['app=plain'])), 'plain');
    assert.equal(appOf(ep(['k8s:myapp=x'])), '');
    assert.equal(appOf(undefined), '');
  });

  it('writes ISD-AS in the canonical text form of the SCION addressing spec', () => {
    assert.equal(canonicalIA('1-ff00_0_110'), '1-ff00:0:110');
    assert.equal(canonicalIA('1-FF00:0:0110'), '1-ff00:0:110');
    assert.equal(canonicalIA('71-2:0:4a'), '71-2:0:4a');
    assert.equal(canonicalIA('1-0:0:fc00'), '1-64512');
    assert.equal(canonicalIA('not an ia'), 'not an ia');
  });
});
