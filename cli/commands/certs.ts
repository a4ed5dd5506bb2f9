// `cillion certs`: the CA and certificates a relay, its collectors and its users need.
//   ca     a CA (ca.crt, ca.key) whose certificates the relay accepts (--tls-client-ca)
//   issue  a certificate signed by it (tls.crt, tls.key, ca.crt): roles as SAN URIs, and
//          --dns/--ip for a server certificate (the relay's --tls-cert)
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_TRUST_DOMAIN, isRole, ROLES, type Role } from '../../relay/auth/identity';
import { mintCa, mintCertificate, MintError } from '../certs/mint';
import { CertificateToolError } from '../certs/openssl';

function collect<T>(parse: (v: string) => T) {
  return (v: string, acc: T[] = []): T[] => [...acc, ...v.split(',').filter((x) => x !== '').map(parse)];
}

function role(v: string): Role {
  if (!isRole(v)) throw new InvalidArgumentError(`roles are ${ROLES.join(', ')}`);
  return v;
}

function wholeDays(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive whole number of days');
  return n;
}

/** Runs a certs action; bad input exits 2, a failing openssl 1. */
function action<T>(fn: (o: T) => void) {
  return (o: T): void => {
    try {
      fn(o);
    } catch (e) {
      if (!(e instanceof MintError || e instanceof CertificateToolError)) throw e;
      process.stderr.write(`cillion certs: ${e.message}\n`);
      process.exitCode = e instanceof MintError ? 2 : 1;
    }
  };
}

export function certsCommand(): Command {
  const cmd = new Command('certs').description('mint the CA and the certificates of a relay, its collectors and its users (mutual TLS)');
  cmd
    .command('ca')
    .description('create a CA: ca.crt (give it to the relay as --tls-client-ca, to clients as their CA) and ca.key')
    .requiredOption('--out <dir>', 'directory for ca.crt and ca.key')
    .option('--name <cn>', 'subject CN of the CA', 'cillion-ca')
    .addOption(new Option('--days <n>', 'validity').default(3650).argParser(wholeDays))
    .option('--force', 'replace a CA already in --out: every certificate it issued stops working')
    .action(
      action((o: { out: string; name: string; days: number; force?: boolean }) => {
        const r = mintCa(o);
        process.stdout.write(`CA certificate ${r.cert}\nCA key ${r.key} (keep it off the cluster)\n`);
      }),
    );
  cmd
    .command('issue')
    .description('issue a certificate from a CA: tls.crt, tls.key and ca.crt in --out')
    .requiredOption('--ca <dir>', 'CA directory made by cillion certs ca')
    .requiredOption('--name <name>', "the client's name: a collector's node name (as the agent's --node), a user's or service's name")
    .requiredOption('--out <dir>', 'directory for tls.crt, tls.key and ca.crt')
    .addOption(new Option('--role <role>', `what the certificate may do, repeatable: ${ROLES.join(', ')}`).argParser(collect(role)))
    .addOption(new Option('--dns <name>', 'DNS name the certificate serves (the relay), repeatable').argParser(collect(String)))
    .addOption(new Option('--ip <address>', 'IP address the certificate serves (the relay), repeatable').argParser(collect(String)))
    .option('--trust-domain <domain>', 'trust domain of the role URIs; the relay must have the same --trust-domain', DEFAULT_TRUST_DOMAIN)
    .addOption(new Option('--days <n>', 'validity').default(365).argParser(wholeDays))
    .option('--force', 'replace a certificate already in --out')
    .action(
      action((o: { ca: string; name: string; out: string; role?: Role[]; dns?: string[]; ip?: string[]; trustDomain: string; days: number; force?: boolean }) => {
        const r = mintCertificate({ ca: o.ca, out: o.out, name: o.name, roles: o.role ?? [], dns: o.dns, ips: o.ip, trustDomain: o.trustDomain, days: o.days, force: o.force });
        const what = [...(o.role?.length ? [`roles ${o.role.join(', ')}`] : []), ...((o.dns?.length ?? 0) + (o.ip?.length ?? 0) > 0 ? [`server for ${[...(o.dns ?? []), ...(o.ip ?? [])].join(', ')}`] : [])];
        process.stdout.write(`${o.name}: ${what.join('; ')}\n  ${r.cert}\n  ${r.key}\n  ${r.ca}\n`);
      }),
    );
  return cmd;
}
