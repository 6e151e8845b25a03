import { createServer } from "node:net";

/**
 * Asks the kernel for a free loopback port. The port is released before Synapse binds it,
 * so another process could take it in between; on loopback in a test run that race is rare
 * and shows up as a clear bind error in the Synapse log.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("harness: listen(0) returned no port"));
        return;
      }
      server.close(() => {
        resolve(address.port);
      });
    });
  });
}
