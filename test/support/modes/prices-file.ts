// Imported first by test/prices-history.test.ts: a price table of its own (config is read once).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'prices-')), 'prices.json');
const source = 'https://example.com/pricing';
fs.writeFileSync(
  file,
  JSON.stringify({
    version: 'test',
    models: [
      {
        model: 'house-model',
        provider: 'house',
        unit: '1M',
        input: 1,
        output: 2,
        effective_from: '2026-01-01',
        source,
      },
      // A price change in the future of the first records.
      {
        model: 'house-model',
        provider: 'house',
        unit: '1M',
        input: 10,
        output: 20,
        effective_from: '2031-01-01',
        source,
      },
    ],
  }),
);
process.env.PRICES_FILE = file;
