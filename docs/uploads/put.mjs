import { readFile } from "node:fs/promises";

const answer = await fetch(process.env.UPLOAD_URL, {
  method: "PUT",
  headers: { "Content-Type": process.env.FILE_TYPE },
  body: await readFile(process.env.FILE_PATH),
});
if (!answer.ok) throw new Error(`${answer.status}: ${await answer.text()}`);
