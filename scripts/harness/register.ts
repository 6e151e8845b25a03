import { createHmac } from "node:crypto";
import { z } from "zod";

export interface RegisteredUser {
  userId: string;
  accessToken: string;
  deviceId: string;
  password: string;
}

const NonceResponse = z.object({ nonce: z.string() });
const RegisterResponse = z.object({ user_id: z.string(), access_token: z.string(), device_id: z.string() });

const REGISTER_PATH = "/_synapse/admin/v1/register";

async function jsonOrThrow(response: Response, what: string): Promise<unknown> {
  const text = await response.text();
  if (!response.ok) throw new Error(`harness: ${what} failed with ${response.status}: ${text}`);
  return JSON.parse(text) as unknown;
}

/**
 * Registers a user through Synapse's shared-secret admin API: fetch a nonce, then post the
 * HMAC-SHA1 of nonce, user, password and admin flag, NUL-separated, keyed with the secret.
 */
export async function registerWithSharedSecret(
  baseUrl: string,
  sharedSecret: string,
  localpart: string,
  password: string,
  admin: boolean,
): Promise<RegisteredUser> {
  const url = baseUrl + REGISTER_PATH;
  const { nonce } = NonceResponse.parse(await jsonOrThrow(await fetch(url), "register nonce"));
  const mac = createHmac("sha1", sharedSecret)
    .update([nonce, localpart, password, admin ? "admin" : "notadmin"].join("\0"))
    .digest("hex");
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ nonce, username: localpart, password, admin, mac }),
  });
  const body = RegisterResponse.parse(await jsonOrThrow(response, `register ${localpart}`));
  return { userId: body.user_id, accessToken: body.access_token, deviceId: body.device_id, password };
}
