// No dependency: the Standard Webhooks signature is an HMAC-SHA256 you can check with node:crypto.
import { createHmac, timingSafeEqual } from "node:crypto";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const body = Buffer.concat(chunks).toString("utf8"); // the raw request body
const id = process.env.WEBHOOK_ID;
const timestamp = process.env.WEBHOOK_TIMESTAMP;

if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 5 * 60) throw new Error("stale: answer 400");
const key = Buffer.from(process.env.WEBHOOK_SECRET.replace(/^whsec_/, ""), "base64");
const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest();
// The header may carry several signatures (during a secret rotation), space-separated.
const valid = process.env.WEBHOOK_SIGNATURE.split(" ").some((entry) => {
  const [version, signature] = entry.split(",");
  const given = Buffer.from(signature || "", "base64");
  return version === "v1" && given.length === expected.length && timingSafeEqual(given, expected);
});
if (!valid) throw new Error("forged: answer 400");
const event = JSON.parse(body);
console.log(JSON.stringify({ type: event.type, id: event.data.id }));
