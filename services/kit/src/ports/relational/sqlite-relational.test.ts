import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { relationalContract } from '../../testing/relational.contract.ts';
import { SqliteRelational } from './sqlite-relational.ts';

const path = join(mkdtempSync(join(tmpdir(), 'relational-')), 'db.sqlite');
relationalContract('node:sqlite', async () => new SqliteRelational(path));
