import assert from 'node:assert/strict';
import { parseUplink, UplinkError } from '../../../../operator/node/uplinks';

describe('parseUplink', () => {
  it('reads IFID=DEVICE and an optional port', () => {
    assert.deepEqual(parseUplink('1=eth1'), { ifid: 1, device: 'eth1' });
    assert.deepEqual(parseUplink('12=veth-up.2:50012'), { ifid: 12, device: 'veth-up.2', localPort: 50012 });
  });

  it('rejects anything else with BAD_UPLINK', () => {
    for (const bad of ['eth1', '=eth1', '1=', 'x=eth1', '1=eth 1', '1=eth1:port']) {
      assert.throws(() => parseUplink(bad), (e: unknown) => e instanceof UplinkError && e.code === 'BAD_UPLINK', bad);
    }
  });
});
