// The page of a circle's link (/c/ID) when it leads to no open room: the server
// serves it with a 404 and the reason (an error code) in <body data-reason>.

import { byId } from "./dom.js";
import { initI18n } from "./i18n.js";

function main() {
  if (document.body.dataset.reason === "circle_not_found") {
    byId("cl-title").dataset.i18n = "circle_link.no_circle_title";
    byId("cl-text").dataset.i18n = "circle_link.no_circle";
  }
  initI18n();
  byId("cl-retry").addEventListener("click", () => location.reload());
}

main();
