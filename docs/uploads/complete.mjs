const answer = await fetch(
  `${process.env.JSONCRAFT_API}/api/uploads/${process.env.UPLOAD_ID}/complete`,
  { method: "POST", headers: { Authorization: `Bearer ${process.env.JSONCRAFT_KEY}` } },
);
if (!answer.ok) throw new Error(`${answer.status}: ${await answer.text()}`);
console.log(JSON.stringify(await answer.json())); // status "ready", or "rejected" with a reason
