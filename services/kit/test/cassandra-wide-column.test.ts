import { wideColumnContract } from '../src/testing/wide-column.contract.ts';
import { serverAddress } from '../src/testing/servers.ts';
import { CassandraWideColumn } from '../src/ports/wide-column/cassandra-wide-column.ts';

wideColumnContract(
  'cassandra',
  async () =>
    new CassandraWideColumn({
      contactPoints: serverAddress('CASSANDRA_CONTACT_POINTS').split(','),
      localDataCenter: process.env.CASSANDRA_LOCAL_DC ?? 'datacenter1',
      keyspace: 'contract',
      replicationFactor: 1,
    }),
);
