// `cillion scion ...`: debugging tools for the SCION wire format.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { ScionError } from '../../scion/errors';
import { Cmac } from '../../scion/mac/cmac';
import { deriveHopFieldKey } from '../../scion/mac/keys';
import { decodePacket } from '../../scion/packet';
import { colorsFor, toJsonLine } from '../output';
import { CaptureError, isCapture, readFrames, udpPayload } from '../scion/capture';
import { macVerdicts, packetJson } from '../scion/present';
import { renderPacket } from '../scion/text';

interface DecodeOptions {
  hex?: string;
  keys?: string;
  output: 'text' | 'json';
}

/** Bad invocation or unreadable input: reported once, exit code 2. */
class InputError extends Error {}

function readInput(file: string | undefined, hex: string | undefined): Uint8Array {
  if (hex !== undefined) {
    if (file !== undefined) throw new InputError('give either FILE or --hex, not both');
    const clean = hex.replace(/\s+/g, '').replace(/^0x/i, '');
    if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) {
      throw new InputError('--hex needs an even number of hex digits');
    }
    return new Uint8Array(Buffer.from(clean, 'hex'));
  }
  try {
    return new Uint8Array(readFileSync(file === undefined || file === '-' ? 0 : file));
  } catch (e) {
    throw new InputError(`cannot read ${file ?? 'standard input'}: ${(e as Error).message}`);
  }
}

function readKeys(file: string): (Cmac | null)[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError(`--keys ${file}: ${(e as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new InputError(`--keys ${file}: expected a JSON array of base64 keys or null`);
  return parsed.map((k: unknown, i) => {
    if (k === null) return null;
    if (typeof k !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(k)) {
      throw new InputError(`--keys ${file}: entry ${i} is neither a base64 master key nor null`);
    }
    return new Cmac(deriveHopFieldKey(new Uint8Array(Buffer.from(k, 'base64'))));
  });
}

interface Candidate {
  title: string;
  frame?: number;
  bytes: Uint8Array;
}

function decodeCommand(file: string | undefined, opts: DecodeOptions): void {
  const input = readInput(file, opts.hex);
  const keys = opts.keys === undefined ? undefined : readKeys(opts.keys);
  const capture = opts.hex === undefined && isCapture(input);
  let candidates: Candidate[];
  let skipped = 0;
  if (capture) {
    candidates = [];
    for (const frame of readFrames(input)) {
      const udp = udpPayload(frame);
      if (udp === null) {
        skipped++;
        continue;
      }
      candidates.push({ title: `Frame ${frame.number}`, frame: frame.number, bytes: udp.payload });
    }
  } else {
    candidates = [{ title: 'Packet', bytes: input }];
  }

  const c = colorsFor(process.stdout);
  let failed = 0;
  let shown = 0;
  for (const cand of candidates) {
    let json;
    try {
      const pkt = decodePacket(cand.bytes);
      json = packetJson(pkt, keys === undefined ? undefined : macVerdicts(pkt, keys));
    } catch (e) {
      if (!(e instanceof ScionError)) throw e;
      if (capture && e.code !== 'BAD_ARGUMENT') {
        // A UDP datagram in a capture need not be SCION at all: skip it, but say so.
        skipped++;
        continue;
      }
      failed++;
      const error = { code: e.code, offset: e.offset, message: e.message, ...(cand.frame ? { frame: cand.frame } : {}) };
      if (opts.output === 'json') process.stdout.write(`${toJsonLine({ error })}\n`);
      else process.stdout.write(`${c.red(`${cand.title}: ${e.message}`)}\n`);
      continue;
    }
    shown++;
    if (opts.output === 'json') process.stdout.write(`${toJsonLine(json)}\n`);
    else process.stdout.write(`${shown > 1 ? '\n' : ''}${renderPacket(c, cand.title, json)}\n`);
  }
  if (capture) {
    process.stderr.write(`${shown} SCION packets decoded, ${skipped} frames skipped (not SCION over UDP/IP)\n`);
  }
  if (failed > 0) process.exitCode = 1;
}

export function scionCommand(): Command {
  const scion = new Command('scion').description('SCION wire-format tools');
  scion
    .command('decode')
    .description('decode SCION packets from raw bytes, hex, standard input or a pcap/pcapng capture')
    .argument('[file]', 'raw SCION bytes (no underlay) or a pcap/pcapng of SCION over UDP/IP; - or none: stdin')
    .option('--hex <hex>', 'the raw SCION packet as hex digits (whitespace allowed)')
    .option('--keys <file>', 'JSON array, one base64 AS master key (or null) per hop field, to check hop-field MACs')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .addHelpText(
      'after',
      '\nExamples:\n  cillion scion decode --hex "0000 0001 ..."\n  cillion scion decode capture.pcapng -o json\n' +
        '  cillion scion decode pkt.bin --keys keys.json',
    )
    .action((file: string | undefined, opts: DecodeOptions) => {
      try {
        decodeCommand(file, opts);
      } catch (e) {
        if (!(e instanceof InputError || e instanceof CaptureError || e instanceof ScionError)) throw e;
        process.stderr.write(`cillion scion decode: ${e.message}\n`);
        process.exitCode = 2;
      }
    });
  return scion;
}
