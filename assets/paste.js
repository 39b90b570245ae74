// Paste an image anywhere on the analyzer page: hand it to the dropzone's file input.
document.addEventListener("paste", (event) => {
  const files = Array.from(event.clipboardData?.files || []).filter((f) => f.type.startsWith("image/"));
  const input = document.querySelector("#analyzer-upload input[type=file]");
  if (!files.length || !input) return;
  const transfer = new DataTransfer();
  transfer.items.add(files[0]);
  input.files = transfer.files;
  input.dispatchEvent(new Event("change", { bubbles: true }));
  event.preventDefault();
});
