import assert from 'node:assert/strict';
import { matches, rejects } from './helpers';

describe('observer/filters: ip', () => {
  const flow = { IP: { source: '10.0.1.5', destination: 'fd00::1:2', sourceXlated: '192.0.2.7' } };

  it('matches exact addresses on the chosen side only', () => {
    assert.equal(matches({ sourceIp: ['10.0.1.5'] }, flow), true);
    assert.equal(matches({ destinationIp: ['10.0.1.5'] }, flow), false);
    assert.equal(matches({ sourceIp: ['10.0.1.6', '10.0.1.5'] }, flow), true);
    assert.equal(matches({ sourceIpXlated: ['192.0.2.7'] }, flow), true);
  });

  it('matches CIDR ranges of either family, boundaries included', () => {
    assert.equal(matches({ sourceIp: ['10.0.0.0/16'] }, flow), true);
    assert.equal(matches({ sourceIp: ['10.0.1.5/32'] }, flow), true);
    assert.equal(matches({ sourceIp: ['10.0.1.6/32'] }, flow), false);
    assert.equal(matches({ sourceIp: ['10.1.0.0/16'] }, flow), false);
    assert.equal(matches({ destinationIp: ['fd00::/112'] }, flow), false);
    assert.equal(matches({ destinationIp: ['fd00::1:0/112'] }, flow), true);
    assert.equal(matches({ sourceIp: ['0.0.0.0/0'] }, flow), true);
  });

  it('never matches a flow without the address', () => {
    assert.equal(matches({ sourceIp: ['0.0.0.0/0'] }, {}), false);
  });

  it('refuses bad addresses and CIDRs', () => {
    rejects({ sourceIp: ['10.0.1'] }, /source_ip: invalid IP address "10.0.1"/);
    rejects({ destinationIp: ['10.0.0.0/33'] }, /destination_ip: invalid CIDR/);
    rejects({ sourceIp: ['fd00::/129'] }, /invalid CIDR/);
    rejects({ sourceIp: ['10.0.0.0/x'] }, /invalid CIDR/);
  });
});
