// Fails when a source line is longer than the formatter's width (biome.json lineWidth): Biome
// wraps code but leaves comments, strings and SQL as written. Usage: tsx scripts/line-length.ts
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const WIDTH = JSON.parse(readFileSync('biome.json', 'utf8')).formatter.lineWidth as number;
const SOURCE = /\.(ts|tsx|sql|css|sh)$|^\.ci\/run$/;
const GENERATED = new Set(['web/src/api/schema.d.ts']);

const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' })
  .split('\n')
  .filter((file) => SOURCE.test(file) && !GENERATED.has(file));
let long = 0;
for (const file of files) {
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, index) => {
      if ([...line].length <= WIDTH) return;
      long += 1;
      console.log(`${file}:${index + 1}: ${[...line].length} characters`);
    });
}
if (long > 0) {
  console.error(`${long} lines over ${WIDTH} characters`);
  process.exit(1);
}
