import { relationalContract } from '../src/testing/relational.contract.ts';
import { serverAddress } from '../src/testing/servers.ts';
import { MysqlRelational } from '../src/ports/relational/mysql-relational.ts';

relationalContract('mysql', async () => new MysqlRelational(serverAddress('MYSQL_URL')));
