import assert from 'node:assert/strict';
import { DaemonServiceService } from '../../../proto/gen/daemon/v1/daemon';
import { compile, enumRows, fieldRows, methodRows } from './descriptor';
import type { Compiled } from './descriptor';
import { SCION_DAEMON_ENUMS, SCION_DAEMON_FIELDS, SCION_DAEMON_METHODS } from './scion-daemon-schema';

const PACKAGES = ['proto.daemon.v1', 'proto.drkey.v1'];

describe('proto: SCION daemon API compatibility', () => {
  let ours: Compiled;
  before(() => {
    ours = compile(['daemon/v1/daemon.proto']);
  });

  it('has exactly SCION’s messages and fields, with SCION’s names, numbers and types', () => {
    assert.deepEqual(fieldRows(ours, PACKAGES), SCION_DAEMON_FIELDS);
  });

  it('has exactly SCION’s enums', () => {
    assert.deepEqual(enumRows(ours, PACKAGES), SCION_DAEMON_ENUMS);
  });

  it('has exactly SCION’s RPCs', () => {
    assert.deepEqual(methodRows(ours, PACKAGES), SCION_DAEMON_METHODS);
  });

  it('generates grpc-js paths a SCION daemon serves', () => {
    const paths = Object.values(DaemonServiceService).map((m) => m.path).sort();
    assert.deepEqual(paths, SCION_DAEMON_METHODS.map((m) => `/${m[0]}/${m[1]}`).sort());
  });
});
