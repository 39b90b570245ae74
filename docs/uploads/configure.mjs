const answer = await fetch(`${process.env.JSONCRAFT_API}/api/projects/${process.env.PROJECT_ID}`, {
  method: "PATCH",
  headers: {
    Authorization: `Bearer ${process.env.JSONCRAFT_KEY}`,
    "Content-Type": "application/json",
  },
  body: JSON.stringify({
    allowed_types: ["image/*", "application/pdf"],
    max_file_size: 10 * 1024 * 1024,
    max_files_per_upload: 5,
    expire_after_days: 30, // null: keep files until deleted
  }),
});
if (!answer.ok) throw new Error(`${answer.status}: ${await answer.text()}`);
console.log(JSON.stringify(await answer.json()));
