import os
from pathlib import Path

import httpx

answer = httpx.put(
    os.environ["UPLOAD_URL"],
    headers={"Content-Type": os.environ["FILE_TYPE"]},
    content=Path(os.environ["FILE_PATH"]).read_bytes(),
)
answer.raise_for_status()
