// Shortens the 500 pages of the npm package top-sites against a running
// shortener, follows every redirect, and prints the stats it got back.
// Usage: npm run demo:url-shortener [-- http://localhost:8081]
import { createRequire } from 'node:module';

interface Site {
  rank: number;
  rootDomain: string;
}

const base = (process.argv[2] ?? 'http://localhost:8081').replace(/\/$/, '');
const sites = createRequire(import.meta.url)('top-sites') as Site[];
const agents = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) ' +
    'Chrome/131.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 ' +
    '(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
];
const referrers = ['https://news.ycombinator.com/', 'https://www.reddit.com/r/programming', ''];

async function pool<T>(items: T[], workers: number, job: (item: T, i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < items.length) {
        const i = next++;
        await job(items[i]!, i);
      }
    }),
  );
}

function progress(label: string, done: number, total: number) {
  if (done % 100 === 0 || done === total) process.stdout.write(`  ${label}: ${done}/${total}\n`);
}

try {
  await fetch(`${base}/healthz`);
} catch {
  process.stderr.write(`no shortener answers at ${base}; start it with npm start\n`);
  process.exit(1);
}

console.log(`shortening ${sites.length} top sites at ${base}`);
const links: { code: string; target: string; clicks: number }[] = [];
const refused: string[] = [];
let done = 0;
await pool(sites, 10, async (site) => {
  const target = `https://${site.rootDomain}/`;
  const create = () =>
    fetch(`${base}/urls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: target }),
    });
  let response = await create();
  while (response.status === 429) {
    // The create limit is per client; wait out the window the server names.
    const reset = /t=(\d+)/.exec(response.headers.get('ratelimit') ?? '')?.[1];
    await response.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, (Number(reset ?? 1) + 1) * 1000));
    response = await create();
  }
  const body = (await response.json()) as {
    code?: string;
    url?: string;
    error?: { message: string };
  };
  if (response.status === 201 && body.code && body.url) {
    links.push({ code: body.code, target: body.url, clicks: 1 + (site.rank % 3) });
  } else {
    refused.push(`${site.rootDomain}: ${response.status} ${body.error?.message ?? ''}`);
  }
  progress('created', ++done, sites.length);
});

console.log(`following every redirect (1-3 visits each)`);
const visits = links.flatMap((link) =>
  Array.from({ length: link.clicks }, (_, i) => ({ link, i })),
);
const wrong: string[] = [];
done = 0;
await pool(visits, 10, async ({ link, i }) => {
  const response = await fetch(`${base}/${link.code}`, {
    redirect: 'manual',
    headers: {
      'user-agent': agents[i % agents.length]!,
      referer: referrers[i % referrers.length]!,
    },
  });
  await response.arrayBuffer();
  const location = response.headers.get('location');
  if (response.status < 300 || response.status > 399 || location !== link.target) {
    wrong.push(`${link.code}: ${response.status} ${location}`);
  }
  progress('redirects', ++done, visits.length);
});

console.log('waiting for the click aggregator to count them');
const expected = visits.length;
let counted = 0;
const totals: Record<string, Record<string, number>> = { device: {}, browser: {}, referrer: {} };
const deadline = Date.now() + 60_000;
while (Date.now() < deadline) {
  counted = 0;
  for (const key of Object.keys(totals)) totals[key] = {};
  await pool(links, 10, async (link) => {
    const stats = (await (await fetch(`${base}/urls/${link.code}/stats`)).json()) as Record<
      string,
      unknown
    > & { total: number };
    counted += stats.total;
    for (const key of Object.keys(totals)) {
      for (const [value, n] of Object.entries(stats[key] as Record<string, number>)) {
        totals[key]![value] = (totals[key]![value] ?? 0) + n;
      }
    }
  });
  if (counted >= expected) break;
  await new Promise((resolve) => setTimeout(resolve, 1000));
}

console.log(`\ncreated ${links.length} short links, refused ${refused.length}`);
for (const line of refused.slice(0, 10)) console.log(`  refused ${line}`);
console.log(
  `redirects: ${visits.length - wrong.length} of ${visits.length} landed on their target`,
);
for (const line of wrong.slice(0, 10)) console.log(`  wrong ${line}`);
console.log(`clicks counted: ${counted} of ${expected}`);
for (const [dimension, values] of Object.entries(totals))
  console.log(`  ${dimension}: ${JSON.stringify(values)}`);
const sample = links[0];
if (sample) console.log(`example: ${base}/${sample.code} -> ${sample.target}`);
process.exit(wrong.length === 0 && counted === expected ? 0 : 1);
