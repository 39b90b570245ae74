import json
import os

import httpx

answer = httpx.post(
    f"{os.environ['JSONCRAFT_API']}/api/uploads",
    headers={"Authorization": f"Bearer {os.environ['JSONCRAFT_KEY']}"},
    json={
        "files": [
            {
                "name": os.environ["FILE_NAME"],
                "size": int(os.environ["FILE_SIZE"]),
                "type": os.environ["FILE_TYPE"],
            }
        ]
    },
)
answer.raise_for_status()
print(json.dumps(answer.json()))
