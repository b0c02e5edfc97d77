import { checkTarget, type TargetPolicy } from './target-policy.ts';

const policy: TargetPolicy = {
  maxLength: 2048,
  selfHosts: ['sho.rt', 'localhost:8081'],
  blockedHosts: ['evil.example', 'xn--bcher-kva.example'],
};

/** Every way the WHATWG parser accepts to write an IPv4 address. */
function spellings(address: string): string[] {
  const parts = address.split('.').map(Number) as [number, number, number, number];
  const value = ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
  const hex = (n: number) => `0x${n.toString(16)}`;
  const octal = (n: number) => `0${n.toString(8)}`;
  const high = ((parts[0] << 8) + parts[1]).toString(16);
  const low = ((parts[2] << 8) + parts[3]).toString(16);
  const mappedHex = `${high}:${low}`;
  return [
    address,
    `${address}.`,
    String(value),
    hex(value),
    `0X${value.toString(16).toUpperCase()}`,
    `0${value.toString(8)}`,
    parts.map(hex).join('.'),
    parts.map(octal).join('.'),
    `${parts[0]}.${(parts[1] << 16) + (parts[2] << 8) + parts[3]}`,
    `${parts[0]}.${parts[1]}.${(parts[2] << 8) + parts[3]}`,
    `[::ffff:${address}]`,
    `[::ffff:${mappedHex}]`,
    `[0:0:0:0:0:ffff:${address}]`,
    `[0000:0000:0000:0000:0000:FFFF:${mappedHex}]`,
  ];
}

const blockedAddresses = [
  '127.0.0.1',
  '127.1.2.3',
  '10.0.0.1',
  '10.255.255.254',
  '172.16.0.1',
  '172.31.255.1',
  '192.168.1.1',
  '169.254.169.254',
  '169.254.0.1',
  '0.0.0.0',
  '100.64.0.1',
  '224.0.0.1',
  '255.255.255.255',
  '192.0.2.1',
];

const publicAddresses = ['8.8.8.8', '1.1.1.1', '93.184.216.34', '172.32.0.1', '11.0.0.1'];

describe('checkTarget', () => {
  describe.each(blockedAddresses)('the non-public address %s', (address) => {
    it.each(
      spellings(address).flatMap((host) => [`http://${host}/`, `https://${host}:8443/a?b=c`]),
    )('is refused when written %s', (url) => {
      const verdict = checkTarget(url, policy);
      expect(verdict.ok).toBe(false);
      if (!verdict.ok) expect(verdict.reason).toMatch(/address/);
    });
  });

  describe.each(publicAddresses)('the public address %s', (address) => {
    it.each(spellings(address).map((host) => `http://${host}/x`))(
      'is allowed when written %s',
      (url) => {
        const verdict = checkTarget(url, policy);
        expect(verdict.ok).toBe(true);
        if (verdict.ok && !url.includes('[')) expect(verdict.url).toBe(`http://${address}/x`);
        if (verdict.ok && url.includes('[')) expect(verdict.url).toMatch(/^http:\/\/\[::ffff:/);
      },
    );
  });

  it.each([
    'http://[::1]/',
    'http://[0:0:0:0:0:0:0:1]/',
    'http://[::]/',
    'http://[fe80::1]/',
    'http://[FE80::abcd:1]/',
    'http://[fc00::1]/',
    'http://[fd12:3456::1]/',
    'http://[ff02::1]/',
    'http://[64:ff9b::7f00:1]/',
    'http://[2001:db8::1]/',
  ])('refuses the non-public IPv6 literal %s', (url) => {
    expect(checkTarget(url, policy).ok).toBe(false);
  });

  it('allows a public IPv6 literal', () => {
    expect(checkTarget('http://[2606:4700::1111]/', policy).ok).toBe(true);
  });

  it.each([
    'javascript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'file:///etc/passwd',
    'ftp://example.com/',
    'mailto:a@example.com',
    'ws://example.com/',
    'about:blank',
    'gopher://example.com/',
    'JAVASCRIPT:alert(1)',
    ' javascript:alert(1)',
  ])('refuses the scheme of %s', (url) => {
    const verdict = checkTarget(url, policy);
    expect(verdict.ok).toBe(false);
  });

  it.each([
    '',
    'example.com',
    '/relative/path',
    'http://',
    'http://exa mple.com/',
    'https://[::1/',
  ])('refuses %j as not a URL', (url) => {
    expect(checkTarget(url, policy).ok).toBe(false);
  });

  it.each([
    'http://localhost/',
    'http://LOCALHOST./',
    'http://app.localhost/',
    'https://sho.rt/abc',
    'https://SHO.RT./abc',
    'http://localhost:8081/x',
    'https://evil.example/',
    'https://deep.sub.evil.example/',
    'https://bücher.example/',
    'http://user:pass@example.com/',
    'http://user@example.com/',
  ])('refuses the host of %s', (url) => {
    expect(checkTarget(url, policy).ok).toBe(false);
  });

  it('allows hosts that merely resemble blocked ones', () => {
    expect(checkTarget('https://notevil.example/', policy).ok).toBe(true);
    expect(checkTarget('https://evil.example.com/', policy).ok).toBe(true);
  });

  it('stores the parsed form and enforces the size limit', () => {
    expect(checkTarget('HTTPS://Example.COM/a b?q=ü#frag', policy)).toEqual({
      ok: true,
      url: 'https://example.com/a%20b?q=%C3%BC#frag',
    });
    const long = `https://example.com/${'a'.repeat(2048)}`;
    expect(checkTarget(long, policy)).toEqual({
      ok: false,
      reason: 'must be at most 2048 characters',
    });
    const growsWhenEncoded = `https://example.com/${'ü'.repeat(700)}`;
    expect(checkTarget(growsWhenEncoded, policy).ok).toBe(false);
  });
});
