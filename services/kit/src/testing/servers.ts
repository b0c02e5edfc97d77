/**
 * The address of a real server for an integration test. A missing variable
 * fails the test with the command that provides it, rather than skipping.
 */
export function serverAddress(variable: string): string {
  const value = process.env[variable];
  if (!value) {
    throw new Error(
      `${variable} is not set: start the servers with "npm run infra -- up" and ` +
        `load their addresses with 'eval "$(npm run -s infra -- env)"', or run "npm test"`,
    );
  }
  return value;
}
