import { execFile } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/**
 * Writes a Synapse signing key (`ed25519 <key id> <unpadded base64 seed>`) without starting
 * Python: `--generate-keys` would cost a full Synapse import, about two seconds per server.
 */
export async function writeSigningKey(path: string): Promise<void> {
  const { privateKey } = generateKeyPairSync("ed25519");
  const seed = privateKey.export({ format: "jwk" }).d;
  if (seed === undefined) throw new Error("harness: ed25519 JWK export has no private part");
  const base64 = Buffer.from(seed, "base64url").toString("base64").replace(/=+$/, "");
  const keyId = "a_" + randomBytes(3).toString("hex");
  await writeFile(path, `ed25519 ${keyId} ${base64}\n`, { mode: 0o600 });
}

// Uses the venv's own `cryptography` (a Synapse dependency) so nothing else must be installed.
const MAKE_CERTIFICATE = `
import datetime, ipaddress, sys
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

cert_path, key_path = sys.argv[1], sys.argv[2]
key = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (
    x509.CertificateBuilder()
    .subject_name(name)
    .issuer_name(name)
    .public_key(key.public_key())
    .serial_number(x509.random_serial_number())
    .not_valid_before(now - datetime.timedelta(hours=1))
    .not_valid_after(now + datetime.timedelta(days=7))
    .add_extension(
        x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
        ),
        critical=False,
    )
    .sign(key, hashes.SHA256())
)
with open(key_path, "wb") as f:
    f.write(key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ))
with open(cert_path, "wb") as f:
    f.write(cert.public_bytes(serialization.Encoding.PEM))
`;

/** Writes a self-signed certificate for 127.0.0.1, good for a week, for a federation listener. */
export async function writeSelfSignedCertificate(python: string, certPath: string, keyPath: string): Promise<void> {
  await execFileAsync(python, ["-c", MAKE_CERTIFICATE, certPath, keyPath], { timeout: 30_000 });
}
