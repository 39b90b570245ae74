import json
import os

import httpx

answer = httpx.patch(
    f"{os.environ['JSONCRAFT_API']}/api/projects/{os.environ['PROJECT_ID']}",
    headers={"Authorization": f"Bearer {os.environ['JSONCRAFT_KEY']}"},
    json={
        "allowed_types": ["image/*", "application/pdf"],
        "max_file_size": 10 * 1024 * 1024,
        "max_files_per_upload": 5,
        "expire_after_days": 30,  # null: keep files until deleted
    },
)
answer.raise_for_status()
print(json.dumps(answer.json()))
