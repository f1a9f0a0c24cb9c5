--- User commands: :CodegenStatus, :CodegenToggle, :CodegenAdapter, :CodegenDocstring,
--- :CodegenDocstrings, :CodegenExplain, :CodegenNextEdit, :CodegenLog. Each asks the
--- server to do the work.

local lsp = require("codegen.lsp")

local M = {}

local function report(err)
  if err then
    vim.notify("codegen: " .. err, vim.log.levels.ERROR)
    return true
  end
  return false
end

--- One line per field of the server's codegen.status answer.
---@param status table
---@return string[]
function M.format_status(status)
  local lines = {
    ("codegen: %s%s"):format(status.state or "?", status.enabled == false and " (suggestions off)" or ""),
  }
  for _, key in ipairs({ "model", "device", "adapter", "fimFormat", "error" }) do
    if status[key] ~= nil and status[key] ~= vim.NIL then
      table.insert(lines, ("  %-10s %s"):format(key, tostring(status[key])))
    end
  end
  local latency = status.latency
  if type(latency) == "table" and next(latency) then
    table.insert(lines, "  latency    " .. vim.inspect(latency, { newline = " ", indent = "" }))
  end
  return lines
end

function M.status()
  lsp.execute("codegen.status", {}, function(err, result)
    if not report(err) then
      vim.notify(table.concat(M.format_status(result or {}), "\n"))
    end
  end)
end

function M.toggle()
  lsp.execute("codegen.toggle", {}, function(err, result)
    if report(err) then
      return
    end
    local enabled = type(result) == "table" and result.enabled ~= false
    require("codegen.inline").set_enabled(enabled)
    require("codegen.next_edit").set_enabled(enabled)
    vim.notify("codegen: suggestions " .. (enabled and "on" or "off"))
  end)
end

--- The LoRA adapters a model server offers (`servedAdapters` of codegen.status); empty
--- for an in-process model, whose adapters are directories.
---@return string[]
function M.served_adapters()
  local status = lsp.execute_sync("codegen.status", {}, 1000)
  local served = type(status) == "table" and status.servedAdapters or nil
  return type(served) == "table" and served or {}
end

---@param dir string?  adapter directory, or the name of a served adapter; nil or "" goes back to the base model
function M.adapter(dir)
  local path = vim.NIL
  if dir and dir ~= "" then
    local expanded = vim.fn.expand(dir)
    -- A directory is made absolute for the server; anything else is a served adapter's name.
    path = vim.fn.isdirectory(expanded) == 1 and vim.fn.fnamemodify(expanded, ":p") or dir
  end
  lsp.execute("codegen.selectAdapter", { path }, function(err, result)
    if report(err) or (type(result) == "table" and result.ok == false and report(result.error)) then
      return
    end
    vim.notify("codegen: adapter " .. (path == vim.NIL and "off (base model)" or tostring(path)))
  end)
end

--- Applies the server's "Generate docstring" code action at the cursor.
function M.docstring()
  vim.lsp.buf.code_action({
    apply = true,
    context = { only = { "refactor.rewrite" }, diagnostics = {} },
    filter = function(action)
      return action.title:lower():find("docstring", 1, true) ~= nil
    end,
  })
end

--- Asks the server for docstrings for the whole file (it edits the buffer).
function M.docstrings()
  lsp.execute("codegen.generateDocstrings", { vim.uri_from_bufnr(0) }, function(err)
    report(err)
  end)
end

--- Quickfix items for the server's codegen.explainTraceback answer, innermost frame first.
---@param result table
---@return table[]
function M.traceback_items(result)
  local items = {}
  for _, frame in ipairs(type(result.frames) == "table" and result.frames or {}) do
    table.insert(items, 1, {
      filename = vim.uri_to_fname(frame.uri),
      lnum = (frame.line or 0) + 1,
      text = ("%s%s%s"):format(
        frame["function"] and frame["function"] ~= vim.NIL and ("in " .. frame["function"] .. ": ") or "",
        result.exception or "",
        frame.fix and "  [fix: code action]" or ""
      ),
      type = "E",
    })
  end
  return items
end

--- Sends `traceback` to the server, which marks its frames with hints and quick
--- fixes; the frames go to the quickfix list.
---@param traceback string
function M.explain(traceback)
  if traceback:match("^%s*$") then
    report("select a traceback (or yank it) first")
    return
  end
  lsp.execute("codegen.explainTraceback", { traceback }, function(err, result)
    if report(err) or (type(result) == "table" and result.ok == false and report(result.error)) then
      return
    end
    local items = M.traceback_items(type(result) == "table" and result or {})
    if #items == 0 then
      vim.notify("codegen: no frame of this traceback is a file of the workspace")
      return
    end
    vim.fn.setqflist({}, " ", { title = "codegen: " .. (result.exception or "traceback"), items = items })
    vim.cmd("botright copen")
  end)
end

M.NEXT_EDIT_ACTIONS = { "suggest", "accept", "dismiss" }

--- :CodegenNextEdit [suggest|accept|dismiss]: ask for a next edit at the cursor now (the
--- default), or act on the one shown as the accept and dismiss keys do.
---@param action string
function M.next_edit(action)
  local next_edit = require("codegen.next_edit")
  local bufnr = vim.api.nvim_get_current_buf()
  if not next_edit.attached(bufnr) then
    report("next-edit suggestions are not on in this buffer (next_edit.enabled, or the server does not offer them)")
  elseif action == "" or action == "suggest" then
    next_edit.request(bufnr)
  elseif action == "accept" or action == "dismiss" then
    if not next_edit[action](bufnr) then
      vim.notify("codegen: no next edit is shown")
    end
  else
    report(("unknown action %q: use one of %s"):format(action, table.concat(M.NEXT_EDIT_ACTIONS, ", ")))
  end
end

function M.create()
  local cmd = vim.api.nvim_create_user_command
  cmd("CodegenStatus", M.status, { desc = "codegen: model, device, adapter and latency" })
  cmd("CodegenToggle", M.toggle, { desc = "codegen: turn inline suggestions off or on" })
  local function complete_adapter(lead)
    local names = vim.tbl_filter(function(n) return vim.startswith(n, lead) end, M.served_adapters())
    return vim.list_extend(names, vim.fn.getcompletion(lead, "dir"))
  end
  cmd("CodegenAdapter", function(a) M.adapter(a.args) end,
    { nargs = "?", complete = complete_adapter, desc = "codegen: use a LoRA adapter (no argument: base model)" })
  cmd("CodegenDocstring", M.docstring, { desc = "codegen: docstring for the function at the cursor" })
  cmd("CodegenDocstrings", M.docstrings, { desc = "codegen: docstrings for every function in the file" })
  cmd("CodegenExplain", function(a)
    local lines = a.range > 0 and vim.api.nvim_buf_get_lines(0, a.line1 - 1, a.line2, false)
      or vim.split(vim.fn.getreg('"'), "\n", { plain = true })
    M.explain(table.concat(lines, "\n"))
  end, { range = true, desc = "codegen: traceback frames to the quickfix list, with fixes" })
  cmd("CodegenNextEdit", function(a) M.next_edit(a.args) end, {
    nargs = "?",
    complete = function(lead)
      return vim.tbl_filter(function(n) return vim.startswith(n, lead) end, M.NEXT_EDIT_ACTIONS)
    end,
    desc = "codegen: ask for the next edit now (or accept / dismiss the one shown)",
  })
  cmd("CodegenLog", function() vim.cmd.edit(vim.lsp.get_log_path()) end,
    { desc = "codegen: open the LSP log" })
end

return M
