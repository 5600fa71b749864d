import ipaddr from 'ipaddr.js';

// Which addresses a webhook may be sent to. A receiver's URL is the tenant's input, and the
// service's network is not the tenant's: an endpoint must not reach the service itself, the
// private network, or a cloud metadata service. The rule is applied to every address a name
// resolves to, at registration and again before each delivery (a name may resolve elsewhere
// later), and the delivery connects to the address that was checked. Pure: no resolution here.

/** What kind of address an IP literal is; only `public` is reachable in production. */
export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'metadata' | 'unspecified' | 'multicast' | 'reserved' | 'invalid';

/** Cloud metadata services (AWS/GCP/Azure, AWS IPv6, Alibaba): named apart because they are the usual target. */
const METADATA = new Set(['169.254.169.254', 'fd00:ec2::254', '100.100.100.200']);

const V4_RANGES: Readonly<Record<string, AddressClass>> = {
  unicast: 'public',
  loopback: 'loopback',
  private: 'private',
  carrierGradeNat: 'private',
  linkLocal: 'link-local',
  unspecified: 'unspecified',
  multicast: 'multicast',
  broadcast: 'multicast',
};

const V6_RANGES: Readonly<Record<string, AddressClass>> = {
  unicast: 'public',
  loopback: 'loopback',
  uniqueLocal: 'private',
  linkLocal: 'link-local',
  unspecified: 'unspecified',
  multicast: 'multicast',
};

/** Classifies one IP literal (v4 or v6, an IPv4-mapped v6 as its v4). Anything unusual is `reserved`. */
export function classifyAddress(ip: string): AddressClass {
  if (!ipaddr.isValid(ip)) return 'invalid';
  let addr = ipaddr.parse(ip);
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  if (METADATA.has(addr.toNormalizedString()) || METADATA.has(addr.toString())) return 'metadata';
  const table = addr.kind() === 'ipv4' ? V4_RANGES : V6_RANGES;
  // Translation prefixes (NAT64, 6to4, Teredo) and documentation/benchmark ranges embed or stand
  // for other addresses: not a receiver's.
  return table[addr.range()] ?? 'reserved';
}

export interface AddressPolicy {
  /** Development and tests: loopback receivers (http://127.0.0.1:…) are allowed. */
  allowLoopback: boolean;
}

/** Whether a delivery may go to this address. */
export function isAllowedAddress(ip: string, policy: AddressPolicy): boolean {
  const kind = classifyAddress(ip);
  return kind === 'public' || (policy.allowLoopback && kind === 'loopback');
}

export interface UrlPolicy extends AddressPolicy {
  /** Production: https only. */
  requireHttps: boolean;
}

/** A receiver URL, checked for form (not for where it resolves): the reason it is refused, or null. */
export function urlProblem(raw: string, policy: UrlPolicy): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be http(s)';
  if (url.protocol === 'http:' && policy.requireHttps) return 'must use https';
  if (url.username || url.password) return 'must not carry credentials';
  if (url.hash) return 'must not have a fragment';
  if (raw.length > 2048) return 'is too long (2048 characters at most)';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (ipaddr.isValid(host) && !isAllowedAddress(host, policy)) return `points to a ${classifyAddress(host)} address`;
  if (!ipaddr.isValid(host) && /(^|\.)localhost$/i.test(host) && !policy.allowLoopback) return 'points to a loopback address';
  return null;
}
