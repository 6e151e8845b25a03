import { createRequire, registerHooks } from "node:module";

/**
 * matrix-bot-sdk requires @matrix-org/matrix-sdk-crypto-nodejs as soon as it is imported, and
 * that package loads a native library its install script downloads from GitHub. Hardened
 * installs disable install scripts and offline machines cannot download, and then a plain
 * import of matrix-bot-sdk throws. Warden does not need end-to-end encryption unless its
 * management room is encrypted, so when the native module cannot load we answer the SDK's
 * require with an empty stand-in (the SDK touches it only inside its crypto classes, which
 * Warden then never creates). Where the module loads, it is used as it is.
 *
 * Must run before matrix-bot-sdk is first imported; botClient.ts imports the SDK dynamically.
 */
const CRYPTO_PACKAGES = new Set(["@matrix-org/matrix-sdk-crypto-nodejs", "@turt2live/matrix-sdk-crypto-nodejs"]);
const STAND_IN_URL = "warden:crypto-unavailable";

export type CryptoAvailability = { readonly available: true } | { readonly available: false; readonly reason: string };

let decided: CryptoAvailability | undefined;

export function prepareCrypto(): CryptoAvailability {
  if (decided !== undefined) return decided;
  const require = createRequire(import.meta.url);
  try {
    // Resolve from the SDK's own location: that is where its require will look.
    const fromSdk = createRequire(require.resolve("matrix-bot-sdk"));
    fromSdk("@matrix-org/matrix-sdk-crypto-nodejs");
    decided = { available: true };
  } catch (error) {
    const reason = error instanceof Error ? (error.message.split("\n")[0] ?? error.message) : String(error);
    registerHooks({
      resolve(specifier, context, nextResolve) {
        if (CRYPTO_PACKAGES.has(specifier)) return { url: STAND_IN_URL, format: "commonjs", shortCircuit: true };
        return nextResolve(specifier, context);
      },
      load(url, context, nextLoad) {
        if (url === STAND_IN_URL) return { format: "commonjs", source: "module.exports = {};", shortCircuit: true };
        return nextLoad(url, context);
      },
    });
    decided = { available: false, reason };
  }
  return decided;
}
