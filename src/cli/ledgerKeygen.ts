// npm run ledger:keygen: prints a new LEDGER_SIGNING_KEY (base64 PKCS#8 DER, Ed25519) on
// stdout, and its keyId and public key on stderr (publish those; keep the private key secret).
import { createPublicKey } from 'node:crypto';
import { parsePrivateKey } from '../config/ledgerSigningKey.js';
import { generateSigningKey, keyIdOf } from '../services/ledgerLog/checkpointSigner.js';

const key = generateSigningKey();
const raw = Buffer.from(createPublicKey(parsePrivateKey(key)).export({ format: 'jwk' }).x as string, 'base64url');
process.stderr.write(`keyId ${keyIdOf(raw)}, public key ${raw.toString('base64')}\n`);
process.stdout.write(`${key}\n`);
