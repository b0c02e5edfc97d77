import { jest } from '@jest/globals';
import { chooseRoles } from './entry-point.ts';

const ROLES = ['api', 'worker', 'relay'] as const;

describe('chooseRoles', () => {
  it('takes roles as separate arguments or joined by commas, and every role when none is named', () => {
    expect(chooseRoles(['api', 'relay'], ROLES)).toEqual(['api', 'relay']);
    expect(chooseRoles(['api,worker'], ROLES)).toEqual(['api', 'worker']);
    expect(chooseRoles([], ROLES)).toEqual(['api', 'worker', 'relay']);
  });

  it('stops the process with exit code 2 and one line naming the unknown role', () => {
    const exit = jest.spyOn(process, 'exit').mockImplementation((code) => {
      throw new Error(`exit ${code}`);
    });
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(() => chooseRoles(['api,cron'], ROLES)).toThrow('exit 2');
      expect(write).toHaveBeenCalledWith('unknown role cron: expected api, worker, relay\n');
    } finally {
      exit.mockRestore();
      write.mockRestore();
    }
  });
});
