const answer = await fetch(`${process.env.JSONCRAFT_API}/api/uploads`, {
  method: "POST",
  headers: {
    Authorization: `Bearer ${process.env.JSONCRAFT_KEY}`,
    "Content-Type": "application/json",
  },
  body: JSON.stringify({
    files: [
      {
        name: process.env.FILE_NAME,
        size: Number(process.env.FILE_SIZE),
        type: process.env.FILE_TYPE,
      },
    ],
  }),
});
if (!answer.ok) throw new Error(`${answer.status}: ${await answer.text()}`);
console.log(JSON.stringify(await answer.json()));
