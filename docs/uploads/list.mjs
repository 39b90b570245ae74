const query = new URLSearchParams({ status: "ready", limit: "20" }); // add cursor=next_cursor
const answer = await fetch(`${process.env.JSONCRAFT_API}/api/uploads?${query}`, {
  headers: { Authorization: `Bearer ${process.env.JSONCRAFT_KEY}` },
});
if (!answer.ok) throw new Error(`${answer.status}: ${await answer.text()}`);
console.log(JSON.stringify(await answer.json()));
