// Imports an OSM PBF extract into the road graph and prints what it kept:
//   node services/navigation/src/import-cli.ts data/osm/andorra.osm.pbf
import { importOsm, type ImportProgress } from './import/osm-import.ts';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: import-cli.ts <extract.osm.pbf>…');
  process.exit(2);
}

function printProgress(progress: ImportProgress): void {
  const percent = ((100 * progress.bytesRead) / Math.max(1, progress.bytesTotal)).toFixed(0);
  console.log(
    `  ${progress.phase}: ${percent}% of ${(progress.bytesTotal / 1024).toFixed(0)} kB, ` +
      `${progress.nodesRead} nodes, ${progress.waysRead} ways`,
  );
}

for (const file of files) {
  console.log(`importing ${file}`);
  try {
    const { summary } = await importOsm(file, printProgress);
    console.log(JSON.stringify(summary, null, 2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  }
}
