// A hand-made topology small enough to list every path by hand:
//
//   ISD 1:  A=1-ff00:0:110 (core) ── CORE ── B=1-ff00:0:120 (core)
//           A#2 ─PARENT→ C=1-ff00:0:111; C#2 → D=1-ff00:0:112; C#3 → E=1-ff00:0:113; B#2 → E#2
//   ISD 2:  F=2-ff00:0:210 (core), A#3 ── CORE ── F#1; F#2 ─PARENT→ G=2-ff00:0:211
//   D#2 ── PEER ── G#2
import { parseIA } from '../../../scion/isdas';

export const IA = {
  A: parseIA('1-ff00:0:110'),
  B: parseIA('1-ff00:0:120'),
  C: parseIA('1-ff00:0:111'),
  D: parseIA('1-ff00:0:112'),
  E: parseIA('1-ff00:0:113'),
  F: parseIA('2-ff00:0:210'),
  G: parseIA('2-ff00:0:211'),
};

export const SMALL_TOPOLOGY = `
segments:
  expTime: 20
ases:
  - { ia: 1-ff00:0:110, core: true, masterKey: Z17SGFWeme+HCwOXNLhoow==, mtu: 9000, internalLatencyMs: 1 }
  - { ia: 1-ff00:0:120, core: true, masterKey: d2TCPJycRHFmZy+7fXWk8Q==, internalLatencyMs: 1 }
  - ia: 1-ff00:0:111
    masterKey: HFCzL4bUTv2gx0jk0zf0RA==
    note: transit C
    internalLatencyMs: 1
    internal:
      - { between: [2, 3], latencyMs: 0.5, bandwidthKbps: 400, hops: 3 }
    interfaces:
      1: { latitude: 47.37, longitude: 8.54, address: Zurich, country: CH }
      2: { latitude: 47.56, longitude: 7.59, address: Basel }
      3: { latitude: 46.20, longitude: 6.14, address: Geneva, country: CH }
  - { ia: 1-ff00:0:112, masterKey: polu0+cjN0atgoUOZE4C9g== }
  - { ia: 1-ff00:0:113, masterKey: RbO14G5UItnTmMA2cF0Y8g== }
  - { ia: 2-ff00:0:210, core: true, masterKey: HZs51/TqBqZ9uHggbY8UeQ==, internalLatencyMs: 1 }
  - ia: 2-ff00:0:211
    masterKey: kTmAZxfy/v9x/nz0FB13/g==
    interfaces:
      1: { underlay: "10.2.0.1:50000" }
links:
  - { a: "1-ff00:0:110#1", b: "1-ff00:0:120#1", type: CORE, latencyMs: 10, bandwidthKbps: 1000 }
  - { a: "1-ff00:0:110#2", b: "1-ff00:0:111#1", type: PARENT, latencyMs: 2, bandwidthKbps: 500, mtu: 1400 }
  - { a: "1-ff00:0:111#2", b: "1-ff00:0:112#1", type: PARENT, latencyMs: 3, bandwidthKbps: 300 }
  - { a: "1-ff00:0:111#3", b: "1-ff00:0:113#1", type: PARENT, latencyMs: 4, bandwidthKbps: 300 }
  - { a: "1-ff00:0:120#2", b: "1-ff00:0:113#2", type: PARENT, latencyMs: 5, bandwidthKbps: 200, linkType: opennet }
  - { a: "1-ff00:0:110#3", b: "2-ff00:0:210#1", type: CORE, latencyMs: 20, bandwidthKbps: 2000, linkType: direct }
  - { a: "2-ff00:0:210#2", b: "2-ff00:0:211#1", type: PARENT, latencyMs: 1, bandwidthKbps: 100 }
  - { a: "1-ff00:0:112#2", b: "2-ff00:0:211#2", type: PEER, latencyMs: 7, bandwidthKbps: 50, mtu: 1300, linkType: multihop }
`;
