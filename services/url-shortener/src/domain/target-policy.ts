import ipaddr from 'ipaddr.js';

export interface TargetPolicy {
  maxLength: number;
  /** Hosts that serve the shortener itself; links to them would loop. */
  selfHosts: string[];
  /** Blocked hosts; a blocked host blocks its subdomains too. */
  blockedHosts: string[];
}

export type TargetVerdict = { ok: true; url: string } | { ok: false; reason: string };

/**
 * Decides whether a long URL may be shortened and returns its stored form.
 *
 * The WHATWG parser already rewrites IPv4 written in decimal, hex, octal or
 * with missing parts to dotted quads, so one check on the parsed host covers
 * every spelling; IPv6 literals are checked by range, IPv4-mapped ones as the
 * IPv4 address they carry. Names are not resolved: the service only
 * redirects, it never fetches a target.
 */
export function checkTarget(raw: string, policy: TargetPolicy): TargetVerdict {
  if (raw.length > policy.maxLength) {
    return { ok: false, reason: `must be at most ${policy.maxLength} characters` };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'is not an absolute URL' };
  }
  if (url.href.length > policy.maxLength) {
    return { ok: false, reason: `must be at most ${policy.maxLength} characters` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, reason: 'must use http or https' };
  }
  if (url.username || url.password) {
    return { ok: false, reason: 'must not carry credentials' };
  }

  const host = url.hostname.toLowerCase().replace(/\.+$/, '');
  if (!host) return { ok: false, reason: 'must name a host' };
  const addressProblem = checkAddress(host);
  if (addressProblem) return { ok: false, reason: addressProblem };
  if (LOOPBACK_NAMES.has(host) || host.endsWith('.localhost')) {
    return { ok: false, reason: 'must not point at a loopback host' };
  }
  if (policy.selfHosts.some((self) => normaliseHost(self) === host)) {
    return { ok: false, reason: 'must not point back at the shortener' };
  }
  if (policy.blockedHosts.some((blocked) => matchesDomain(host, normaliseHost(blocked)))) {
    return { ok: false, reason: 'points at a blocked host' };
  }
  return { ok: true, url: url.href };
}

/** A reason when the host is an IP literal outside public unicast space. */
function checkAddress(host: string): string | undefined {
  const literal = host.startsWith('[') ? host.slice(1, -1) : host;
  if (!ipaddr.isValid(literal)) return undefined;

  let address = ipaddr.parse(literal);
  if (address.kind() === 'ipv6') {
    const v6 = address as ipaddr.IPv6;
    // IPv4-mapped (::ffff:a.b.c.d) and the deprecated IPv4-compatible (::a.b.c.d) carry an IPv4.
    const compatible = v6.parts.slice(0, 6).every((part) => part === 0) && v6.parts[6] !== 0;
    if (v6.isIPv4MappedAddress() || compatible) {
      const bytes = v6.toByteArray().slice(12);
      address = new ipaddr.IPv4(bytes);
    }
  }
  const range = address.range();
  return range === 'unicast' ? undefined : `must not point at a ${describe(range)} address`;
}

function describe(range: string): string {
  const names: Record<string, string> = {
    loopback: 'loopback',
    private: 'private',
    linkLocal: 'link-local',
    uniqueLocal: 'private',
    unspecified: 'unspecified',
    carrierGradeNat: 'private',
    multicast: 'multicast',
    broadcast: 'broadcast',
  };
  return names[range] ?? 'reserved';
}

const LOOPBACK_NAMES = new Set([
  'localhost',
  'ip6-localhost',
  'ip6-loopback',
  'localhost.localdomain',
]);

function normaliseHost(host: string): string {
  try {
    return new URL(`http://${host}`).hostname.toLowerCase().replace(/\.+$/, '');
  } catch {
    return host.toLowerCase();
  }
}

function matchesDomain(host: string, domain: string): boolean {
  return host === domain || host.endsWith(`.${domain}`);
}
