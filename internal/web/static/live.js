// live.js: the live page's stream. It opens the EventSource the events
// table names (data-stream) and puts each new event at the top of the
// table, as text only: event data never becomes markup. Without it the
// page still lists the latest events and has a refresh link.
(function () {
  "use strict";
  var table = document.getElementById("events");
  var status = document.getElementById("live-status");
  if (!table || !status || !window.EventSource) {
    return;
  }
  var url = table.getAttribute("data-stream") || "";
  if (url.indexOf("/live/stream") !== 0) {
    return;
  }
  var body = table.tBodies[0];
  var maxRows = Math.max(parseInt(table.getAttribute("data-rows"), 10) || 50, 50) * 10;
  var added = 0;

  function say(text) {
    status.textContent = text;
  }

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text == null ? "" : String(text);
    row.appendChild(td);
    return td;
  }

  function add(ev) {
    var seq = String(ev.seq);
    if (body.querySelector('tr[data-seq="' + seq.replace(/[^0-9]/g, "") + '"]')) {
      return; // already listed
    }
    var empty = document.getElementById("no-events");
    if (empty) {
      empty.parentNode.removeChild(empty);
    }
    var row = document.createElement("tr");
    row.setAttribute("data-seq", seq);
    row.className = "new";
    cell(row, seq);
    cell(row, ev.time);
    cell(row, ev.type);
    var subject = cell(row, "");
    if (ev.href && String(ev.href).indexOf("/models/") === 0) {
      var a = document.createElement("a");
      a.setAttribute("href", ev.href);
      a.textContent = ev.subject;
      subject.appendChild(a);
    } else {
      subject.textContent = ev.subject == null ? "" : String(ev.subject);
    }
    cell(row, ev.principal);
    cell(row, ev.reason);
    body.insertBefore(row, body.firstChild);
    while (body.rows.length > maxRows) {
      body.deleteRow(body.rows.length - 1);
    }
    added++;
    say("Live: " + added + (added === 1 ? " new event" : " new events") + " since the page loaded, at the top of the table.");
  }

  var source = new EventSource(url);
  source.onopen = function () {
    if (added === 0) {
      say("Live: new events appear at the top of the table as they happen.");
    }
  };
  source.onmessage = function (m) {
    try {
      add(JSON.parse(m.data));
    } catch (e) {
      // an event the page cannot read is skipped; the refresh link shows it
    }
  };
  source.addEventListener("gap", function () {
    say("Some events were skipped while the page was away: refresh to see them all.");
  });
  source.onerror = function () {
    if (source.readyState === EventSource.CLOSED) {
      say("The live stream ended (signed out, or the server stopped): refresh the page.");
    } else {
      say("Reconnecting to the live stream…");
    }
  };
}());
