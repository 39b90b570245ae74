// On your server: the secret key stays there, the browser gets a token for ten minutes.
const answer = await fetch(`${process.env.JSONCRAFT_API}/api/uploads/client-tokens`, {
  method: "POST",
  headers: {
    Authorization: `Bearer ${process.env.JSONCRAFT_KEY}`,
    "Content-Type": "application/json",
  },
  body: JSON.stringify({ expires_in: 600 }),
});
if (!answer.ok) throw new Error(`${answer.status}: ${await answer.text()}`);
console.log(JSON.stringify(await answer.json())); // {"token": "jct_...", "expires_at": ...}
