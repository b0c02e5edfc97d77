import { hashPassword, verifyPassword } from './password.ts';

describe('password hashes', () => {
  test('verify the right password only, salted differently each time', async () => {
    const [first, second] = await Promise.all([
      hashPassword('correct horse', 10),
      hashPassword('correct horse', 10),
    ]);
    expect(first).not.toBe(second);
    expect(first.startsWith('scrypt$1024$8$1$')).toBe(true);
    expect(await verifyPassword('correct horse', first)).toBe(true);
    expect(await verifyPassword('correct horsE', first)).toBe(false);
    expect(await verifyPassword('correct horse', 'bcrypt$whatever')).toBe(false);
  });
});
