const answer = await fetch(
  `${process.env.JSONCRAFT_API}/api/projects/${process.env.PROJECT_ID}/webhooks`,
  {
    method: "POST",
    headers: {
      Authorization: `Bearer ${process.env.JSONCRAFT_KEY}`,
      "Content-Type": "application/json",
    },
    body: JSON.stringify({
      url: process.env.WEBHOOK_URL,
      events: ["upload.completed", "upload.rejected"],
    }),
  },
);
if (!answer.ok) throw new Error(`${answer.status}: ${await answer.text()}`);
console.log(JSON.stringify(await answer.json())); // {"id", "secret": "whsec_..."}: keep the secret
