// Infinite scroll: when the "Load more" button scrolls into view, press it.
(() => {
  const seen = new WeakSet();
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (entry.isIntersecting && !entry.target.disabled) entry.target.click();
    }
  }, { rootMargin: "400px" });
  const watch = () => {
    const button = document.getElementById("load-more");
    if (button && !seen.has(button)) { seen.add(button); observer.observe(button); }
  };
  new MutationObserver(watch).observe(document.body, { childList: true, subtree: true });
  watch();
})();
