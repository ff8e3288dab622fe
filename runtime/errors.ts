/**
 * Errors a user can cause, and the one place that turns them into a one-line message and an exit code.
 */

/** An error the user can fix (bad flag, unknown segment, missing credentials): printed as one line, no stack. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserError";
  }
}

/** Exit codes shared by the apps. */
export const EXIT = {
  ok: 0,
  /** The job ran but did not complete (records undelivered, stream vanished, ...). */
  failed: 1,
  /** The user asked for something that cannot work (bad flags, unknown segment, no credentials). */
  usage: 2,
  /** Stopped by Ctrl-C (128 + SIGINT, as shells report it) after finishing what was under way. */
  interrupted: 130,
} as const;

/** The fix for a missing region or missing credentials, the same wherever it is detected. */
export const NO_REGION = "no AWS region configured: set AWS_REGION (or pass --region), or use --endpoint for an emulator";
export const NO_CREDENTIALS =
  "no AWS credentials found: configure them (aws configure, AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), or use --endpoint for an emulator";

/** Maps well-known AWS SDK errors to a sentence that names the cause and the fix; undefined when unknown. */
export function describeAwsError(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const name = err.name;
  if (name === "CredentialsProviderError" || /Could not load credentials/i.test(err.message)) {
    return NO_CREDENTIALS;
  }
  if (/Region is missing/i.test(err.message)) {
    return NO_REGION;
  }
  if (name === "ResourceNotFoundException") {
    return `stream not found: ${err.message}`;
  }
  if (name === "AccessDeniedException" || name === "UnrecognizedClientException") {
    return `access denied by Kinesis (${err.message}); check that your role has the segment's producer or consumer policy attached`;
  }
  if (name === "TimeoutError") {
    return `${err.message.split("\n")[0]}; check that the endpoint (--endpoint, AWS_ENDPOINT_URL_KINESIS) is up and reachable`;
  }
  const code = (err as NodeJS.ErrnoException).code;
  const { address, port } = err as { address?: string; port?: number };
  if (code === "ECONNREFUSED" && address && /^127\.|^::1$|^::ffff:127\./.test(address)) {
    return `nothing answers at http://${address}:${port ?? "?"} (ECONNREFUSED); if that is the local lake, start it again with \`npm run local-lake\` (it keeps its port, so the lines you pasted stay valid)`;
  }
  if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return `cannot reach the Kinesis endpoint (${code}): check --endpoint / AWS_ENDPOINT_URL_KINESIS`;
  }
  return undefined;
}

/**
 * Runs an app's main function: exit code from its result, and every failure as one line on stderr.
 * Set DATALAKE_DEBUG=1 to see stack traces of unexpected errors.
 */
export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      const known = err instanceof UserError ? err.message : describeAwsError(err);
      if (known !== undefined) {
        process.stderr.write(`error: ${known}\n`);
        process.exitCode = err instanceof UserError ? EXIT.usage : EXIT.failed;
        return;
      }
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`error: ${message.split("\n")[0]}\n`);
      if (process.env.DATALAKE_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? ""}\n`);
      process.exitCode = EXIT.failed;
    },
  );
}
