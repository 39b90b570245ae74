const answer = await fetch(`${process.env.JSONCRAFT_API}/api/uploads/${process.env.UPLOAD_ID}`, {
  headers: { Authorization: `Bearer ${process.env.JSONCRAFT_KEY}` },
});
if (!answer.ok) throw new Error(`${answer.status}: ${await answer.text()}`);
console.log(JSON.stringify(await answer.json())); // metadata and a signed download URL
