/**
 * Loaded by mocha before any test (.mocharc.json): makes the suite hermetic. A developer's AWS settings
 * must neither change what the tests see nor send them to AWS, and the SDK must never probe the EC2
 * instance-metadata address (the tests only talk to loopback).
 */
for (const name of Object.keys(process.env)) {
  if (/^(AWS_|KINESIS_STREAM_NAME$|DATALAKE_)/.test(name)) delete process.env[name];
}
process.env.AWS_EC2_METADATA_DISABLED = "true";
process.env.AWS_CONFIG_FILE = "/nonexistent/aws-config";
process.env.AWS_SHARED_CREDENTIALS_FILE = "/nonexistent/aws-credentials";

/**
 * No test may make Node warn that listeners pile up on an emitter or an AbortSignal
 * (MaxListenersExceededWarning): it means a leak, or a shared signal whose bound was not raised on purpose.
 * Each test fails that made one (mocha root hook; the warning's stack names where the listener was added).
 */
const listenerWarnings: Error[] = [];
process.on("warning", (warning) => {
  if (warning.name === "MaxListenersExceededWarning") listenerWarnings.push(warning);
});
export const mochaHooks = {
  afterEach(): void {
    const found = listenerWarnings.splice(0);
    if (found.length > 0) throw new Error(`${found.length} MaxListenersExceededWarning: ${found[0].message}\n${found[0].stack ?? ""}`);
  },
};
