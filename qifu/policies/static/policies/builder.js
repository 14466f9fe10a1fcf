/* The clause builder: eligibility conditions as nested groups of rows, no code to write.
 *
 * The tree is kept as a small model (group / cond / expr nodes), drawn into #builder and serialized on
 * every change into the hidden input #id_conditions_json in the engine's condition form:
 *   {"all": [{"field": "employees", "op": "<", "value": 300}, {"not": {"has_tag": "失信企业"}}, …]}
 * The server checks it with the engine (conditions.parse) when the form is saved or tried.
 */
(function () {
  "use strict";

  const root = document.getElementById("builder");
  if (!root) return;
  const cfg = JSON.parse(document.getElementById("builder-config").textContent);
  const hidden = document.getElementById("id_conditions_json");
  const T = cfg.text;
  const fieldsByCode = Object.fromEntries(cfg.fields.map((f) => [f.code, f]));
  const LIST_OPS = ["in", "not_in"];

  // --- data <-> model -------------------------------------------------------------------------------

  function group(kind, children, negate) {
    return { type: "group", kind: kind || "all", children: children || [], negate: !!negate };
  }

  function defaultCond() {
    const field = cfg.fields.find((f) => f.type !== "tags") || cfg.fields[0];
    return { type: "cond", field: field.code, op: opsFor(field.code)[0], value: "", negate: false };
  }

  function fromData(d) {
    if (d === null || typeof d !== "object") return null;
    if (Array.isArray(d.all) || Array.isArray(d.any)) {
      const kind = Array.isArray(d.all) ? "all" : "any";
      return group(kind, d[kind].map(fromData).filter(Boolean));
    }
    if ("not" in d) {
      const inner = fromData(d.not);
      if (inner) inner.negate = !inner.negate;
      return inner;
    }
    if ("has_tag" in d) return { type: "cond", field: "tags", op: "has_tag", value: d.has_tag, negate: false };
    if ("expr" in d) return { type: "expr", source: d.expr, negate: false };
    if ("field" in d) {
      if (d.op === "has_tag") return { type: "cond", field: "tags", op: "has_tag", value: d.value, negate: false };
      return { type: "cond", field: d.field, op: d.op, value: d.value, negate: false };
    }
    return null;
  }

  function wrapNot(data, negate) {
    return negate ? { not: data } : data;
  }

  function toData(node) {
    if (node.type === "group") {
      const children = node.children.map(toData).filter((c) => c !== null);
      if (!children.length) return null;
      return wrapNot({ [node.kind]: children }, node.negate);
    }
    if (node.type === "expr") {
      const source = (node.source || "").trim();
      return source ? wrapNot({ expr: source }, node.negate) : null;
    }
    if (node.op === "has_tag") return wrapNot({ has_tag: String(node.value || "").trim() }, node.negate);
    return wrapNot({ field: node.field, op: node.op, value: node.value }, node.negate);
  }

  // --- types and values -----------------------------------------------------------------------------

  function typeOf(code) {
    const field = fieldsByCode[code];
    return field ? field.type : "text";
  }

  function opsFor(code) {
    return cfg.opsByType[typeOf(code)] || cfg.opsByType.text;
  }

  function splitList(text) {
    return String(text).split(/[,，、;；]/).map((s) => s.trim()).filter((s) => s !== "");
  }

  function typed(code, raw) {
    const kind = typeOf(code);
    const text = String(raw).trim();
    if (kind === "number" && text !== "") {
      const n = Number(text.replace(/[,，\s]/g, ""));
      return Number.isFinite(n) ? n : text;
    }
    return text;
  }

  function listText(value) {
    return Array.isArray(value) ? value.join(", ") : (value === undefined || value === null ? "" : String(value));
  }

  // The value a row shows for its operator, keeping what can be kept when the operator changes.
  function coerce(node) {
    const v = node.value;
    if (node.op === "between") {
      if (!Array.isArray(v) || v.length !== 2) node.value = [Array.isArray(v) ? (v[0] ?? "") : (v ?? ""), ""];
    } else if (LIST_OPS.includes(node.op)) {
      if (!Array.isArray(v)) node.value = v === "" || v === undefined || v === null ? [] : [v];
    } else if (node.op === "prefix") {
      // one prefix or several
    } else if (Array.isArray(v)) {
      node.value = v.length ? v[0] : "";
    }
  }

  // --- drawing ---------------------------------------------------------------------------------------

  let model = (function () {
    let data = null;
    try { data = JSON.parse(hidden.value || "null"); } catch (e) { data = null; }
    let node = fromData(data);
    if (!node) return group("all", []);
    if (node.type !== "group" || node.negate) return group("all", [node]);
    return node;
  })();

  function el(tag, attrs, children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") e.textContent = v;
      else if (k === "class") e.className = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (v !== false && v !== null && v !== undefined) e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children || []) if (c) e.appendChild(c);
    return e;
  }

  function option(value, label, selected) {
    const o = el("option", { value: value, text: label });
    if (selected) o.selected = true;
    return o;
  }

  function notBox(node, testid) {
    const box = el("input", { type: "checkbox", class: "form-check-input", "data-testid": testid,
      title: T.not, onchange: (e) => { node.negate = e.target.checked; sync(); } });
    box.checked = !!node.negate;
    return el("label", { class: "form-check form-check-inline small mb-0 me-1" }, [box,
      el("span", { class: "form-check-label", text: T.not })]);
  }

  function drawValue(node) {
    const kind = typeOf(node.field);
    const inputType = kind === "number" ? "text" : (kind === "date" ? "date" : "text");
    const mode = kind === "number" ? "decimal" : null;
    if (node.op === "between") {
      const v = node.value;
      const from = el("input", { class: "form-control form-control-sm", type: inputType, inputmode: mode,
        value: listText(v[0]), "data-testid": "cond-value-from", "aria-label": T.from,
        oninput: (e) => { node.value[0] = typed(node.field, e.target.value); sync(); } });
      const to = el("input", { class: "form-control form-control-sm", type: inputType, inputmode: mode,
        value: listText(v[1]), "data-testid": "cond-value-to", "aria-label": T.to,
        oninput: (e) => { node.value[1] = typed(node.field, e.target.value); sync(); } });
      return el("div", { class: "input-group input-group-sm" }, [from, el("span", { class: "input-group-text", text: "–" }), to]);
    }
    if (LIST_OPS.includes(node.op) || node.op === "prefix") {
      return el("input", { class: "form-control form-control-sm", type: "text", value: listText(node.value),
        placeholder: T.listHint, "data-testid": "cond-value",
        oninput: (e) => {
          const items = splitList(e.target.value).map((s) => typed(node.field, s));
          node.value = node.op === "prefix" && items.length === 1 ? items[0] : items;
          sync();
        } });
    }
    if (kind === "bool") {
      if (typeof node.value !== "boolean") node.value = true;
      const select = el("select", { class: "form-select form-select-sm", "data-testid": "cond-value",
        onchange: (e) => { node.value = e.target.value === "true"; sync(); } },
        [option("true", T.yes, node.value === true), option("false", T.no, node.value === false)]);
      return select;
    }
    if (node.op === "has_tag") {
      return el("input", { class: "form-control form-control-sm", type: "text", value: listText(node.value),
        list: "builder-tags", "data-testid": "cond-value",
        oninput: (e) => { node.value = e.target.value.trim(); sync(); } });
    }
    return el("input", { class: "form-control form-control-sm", type: inputType, inputmode: mode,
      value: listText(node.value), "data-testid": "cond-value",
      oninput: (e) => { node.value = typed(node.field, e.target.value); sync(); } });
  }

  function drawCond(node, parent) {
    const fieldSelect = el("select", { class: "form-select form-select-sm", "data-testid": "cond-field",
      onchange: (e) => {
        node.field = e.target.value;
        const ops = opsFor(node.field);
        if (!ops.includes(node.op)) node.op = ops[0];
        node.value = node.op === "between" ? ["", ""] : (typeOf(node.field) === "bool" ? true : "");
        redraw();
      } });
    for (const f of cfg.fields) fieldSelect.appendChild(option(f.code, f.label + (f.unit ? `（${f.unit}）` : ""), f.code === node.field));
    if (!fieldsByCode[node.field]) fieldSelect.appendChild(option(node.field, `${node.field} ${T.otherField}`, true));
    const opSelect = el("select", { class: "form-select form-select-sm", "data-testid": "cond-op",
      onchange: (e) => { node.op = e.target.value; coerce(node); redraw(); } });
    const ops = opsFor(node.field);
    for (const op of ops) opSelect.appendChild(option(op, cfg.operators[op] || op, op === node.op));
    if (!ops.includes(node.op)) opSelect.appendChild(option(node.op, cfg.operators[node.op] || node.op, true));
    coerce(node);
    return el("div", { class: "row g-1 align-items-center mb-1 cond-row", "data-testid": "cond-row" }, [
      el("div", { class: "col-auto" }, [notBox(node, "cond-not")]),
      el("div", { class: "col-12 col-sm-4" }, [fieldSelect]),
      el("div", { class: "col-5 col-sm-3" }, [opSelect]),
      el("div", { class: "col" }, [drawValue(node)]),
      el("div", { class: "col-auto" }, [removeButton(parent, node, "remove-condition")]),
    ]);
  }

  function drawExpr(node, parent) {
    return el("div", { class: "row g-1 align-items-center mb-1 cond-row", "data-testid": "expr-row" }, [
      el("div", { class: "col-auto" }, [notBox(node, "cond-not")]),
      el("div", { class: "col" }, [el("input", { class: "form-control form-control-sm font-monospace", type: "text",
        value: node.source || "", placeholder: T.expression, "data-testid": "expr-value", spellcheck: "false",
        oninput: (e) => { node.source = e.target.value; sync(); } })]),
      el("div", { class: "col-auto" }, [removeButton(parent, node, "remove-expression")]),
    ]);
  }

  function removeButton(parent, node, testid) {
    return el("button", { type: "button", class: "btn btn-sm btn-outline-danger", "data-testid": testid,
      title: T.remove, "aria-label": T.remove, text: "×",
      onclick: () => { parent.children.splice(parent.children.indexOf(node), 1); redraw(); } });
  }

  function drawGroup(node, parent) {
    const kind = el("select", { class: "form-select form-select-sm w-auto", "data-testid": "group-kind",
      onchange: (e) => { node.kind = e.target.value; sync(); } },
      [option("all", T.all, node.kind === "all"), option("any", T.any, node.kind === "any")]);
    const head = el("div", { class: "d-flex flex-wrap gap-2 align-items-center mb-2" }, [
      notBox(node, "group-not"), kind,
      parent ? removeButton(parent, node, "remove-group") : null,
    ]);
    const children = el("div", { class: "group-children" });
    if (!node.children.length && !parent) children.appendChild(el("p", { class: "small text-muted mb-1", text: T.noConditions }));
    for (const child of node.children) {
      if (child.type === "group") children.appendChild(drawGroup(child, node));
      else if (child.type === "expr") children.appendChild(drawExpr(child, node));
      else children.appendChild(drawCond(child, node));
    }
    const actions = el("div", { class: "d-flex flex-wrap gap-1 group-actions" }, [
      el("button", { type: "button", class: "btn btn-sm btn-outline-primary", "data-testid": "add-condition",
        text: T.addCondition, onclick: () => { node.children.push(defaultCond()); redraw(); } }),
      el("button", { type: "button", class: "btn btn-sm btn-outline-primary", "data-testid": "add-group",
        text: T.addGroup, onclick: () => { node.children.push(group(node.kind === "all" ? "any" : "all", [defaultCond()])); redraw(); } }),
      el("button", { type: "button", class: "btn btn-sm btn-outline-secondary", "data-testid": "add-expression",
        text: T.addExpression, onclick: () => { node.children.push({ type: "expr", source: "", negate: false }); redraw(); } }),
    ]);
    return el("div", { class: "border rounded p-2 mb-2 bg-light-subtle cond-group", "data-testid": "cond-group",
      "data-kind": node.kind }, [head, children, actions]);
  }

  function sync() {
    const data = toData(model);
    hidden.value = data === null ? "" : JSON.stringify(data);
    hidden.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function redraw() {
    root.replaceChildren(drawGroup(model, null));
    sync();
  }

  const tags = el("datalist", { id: "builder-tags" });
  for (const t of cfg.tags) tags.appendChild(option(t, t, false));
  document.body.appendChild(tags);
  redraw();
})();
