import { searchContract } from '../../testing/search.contract.ts';
import { MiniSearchEngine } from './minisearch-engine.ts';

searchContract('minisearch', async () => new MiniSearchEngine());
