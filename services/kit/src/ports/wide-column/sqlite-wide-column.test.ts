import { wideColumnContract } from '../../testing/wide-column.contract.ts';
import { SqliteWideColumn } from './sqlite-wide-column.ts';

wideColumnContract('sqlite tables', async () => new SqliteWideColumn());
