import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aes128RoundKeys } from '../../../bpf/aes_keys';
import { kernelEcbAesDriver, keyOfRoundKeys } from '../../../bpf/hop_cipher';
import { describeHopMac, fetchHopMac, parseHopMacInfo } from '../../../metrics/hop_mac_info';
import { MetricsFetchError } from '../../../metrics/scrape';
import { serveMetrics } from '../../../metrics/endpoint';
import { RouterMetrics } from '../../../metrics/router';

const entry = (name: string, driver: string, priority: number, type: string): string =>
  `name         : ${name}\ndriver       : ${driver}\nmodule       : kernel\npriority     : ${priority}\ntype         : ${type}\n`;

describe('bpf/hop_cipher: what the kfunc router needs from user space', () => {
  it('recovers the AES key from its round keys (the first four words are the key)', () => {
    const key = Buffer.from('2b7e151628aed2a6abf7158809cf4f3c', 'hex');
    assert.equal(keyOfRoundKeys(aes128RoundKeys(key)).toString('hex'), key.toString('hex'));
  });

  it('names the highest-priority ecb(aes) lskcipher in /proc/crypto, ignoring other types', () => {
    const dir = mkdtempSync(join(tmpdir(), 'proc-crypto-'));
    try {
      const file = join(dir, 'crypto');
      writeFileSync(
        file,
        [
          entry('ecb(aes)', 'ecb(aes-fixed-time)', 101, 'lskcipher'),
          entry('ecb(aes)', 'ecb-aes-aesni', 400, 'skcipher'),
          entry('ecb(aes)', 'ecb(aes-aesni)', 301, 'lskcipher'),
          entry('aes', 'aes-generic', 100, 'cipher'),
        ].join('\n'),
      );
      assert.equal(kernelEcbAesDriver(file), 'ecb(aes-aesni)');
      writeFileSync(file, entry('aes', 'aes-generic', 100, 'cipher'));
      assert.equal(kernelEcbAesDriver(file), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says which method runs in the router log and metrics', async () => {
    assert.equal(describeHopMac({ method: 'kfunc', driver: 'ecb(aes-fixed-time)' }), 'hop MACs: kernel AES via BPF crypto kfuncs (ecb(aes-fixed-time))');
    assert.equal(describeHopMac({ method: 'table', reason: 'forced by the loader option' }), 'hop MACs: table AES in BPF, the fallback (forced by the loader option)');
    const m = new RouterMetrics({ hopMac: { method: 'kfunc', driver: 'ecb(aes-fixed-time)' }, datapath: () => ({ FORWARD: { packets: 3n, bytes: 300n } }) });
    const text = await m.text();
    assert.match(text, /^cillion_hop_mac_info\{method="kfunc",driver="ecb\(aes-fixed-time\)",reason=""\} 1$/m);
    assert.deepEqual(parseHopMacInfo(text), { method: 'kfunc', driver: 'ecb(aes-fixed-time)' }, 'status reads back what the router exposes');
    assert.match(text, /^cillion_datapath_packets_total\{counter="FORWARD"\} 3$/m);
    assert.match(text, /^cillion_datapath_wire_bytes_total\{counter="FORWARD"\} 300$/m);
  });

  it('cillion status --router reads the method over HTTP: the fallback with its reason, and says what is wrong with anything else', async () => {
    const reason = 'the kernel refused bpf_crypto_ctx_create: "ecb(aes)" unavailable';
    const router = await serveMetrics('127.0.0.1:0', new RouterMetrics({ hopMac: { method: 'table', reason }, datapath: () => ({}) }));
    const other = await serveMetrics('127.0.0.1:0', { contentType: 'text/plain', text: async () => 'up 1\n' });
    try {
      assert.deepEqual(await fetchHopMac(router.address, 2000), { method: 'table', reason });
      await assert.rejects(fetchHopMac(other.address, 2000), (e: Error) => e instanceof MetricsFetchError && /no cillion_hop_mac_info/.test(e.message));
    } finally {
      await router.close();
      await other.close();
    }
    await assert.rejects(fetchHopMac(router.address, 2000), MetricsFetchError, 'a router that went away');
  });
});
