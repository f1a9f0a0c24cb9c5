--- Inline suggestions in a buffer: Neovim's own vim.lsp.inline_completion on 0.12+
--- (codegen.native), the extmark ghost text of codegen.ghost before; and the keys that
--- act on them. Both report what happens to each suggestion (codegen.events).

local config = require("codegen.config")
local ghost = require("codegen.ghost")
local native = require("codegen.native")

local M = {}

--- Starts inline suggestions in `bufnr` for the client `client_id`.
---@param bufnr integer
---@param client_id integer
---@param opts codegen.Config
function M.attach(bufnr, client_id, opts)
  if config.use_native(opts) then
    native.attach(bufnr, client_id)
  else
    ghost.attach(bufnr, client_id, opts.debounce_ms)
  end
  M.set_keymaps(bufnr, opts.keymaps)
end

--- Accepts `kind` of the suggestion on screen in the current buffer; false if none.
--- Safe in <expr> mappings: the buffer changes after the mapping returns.
---@param kind "all"|"word"|"line"
---@return boolean
function M.accept(kind)
  local bufnr = vim.api.nvim_get_current_buf()
  if native.attached(bufnr) then
    return native.accept(bufnr, kind)
  end
  if not ghost.visible(bufnr) then
    return false
  end
  vim.schedule(function() ghost.accept(bufnr, kind) end)
  return true
end

--- Whether an inline suggestion is on screen in `bufnr`.
---@param bufnr integer
---@return boolean
function M.visible(bufnr)
  return native.attached(bufnr) and native.visible(bufnr) or ghost.visible(bufnr)
end

--- Shows the next (`step` 1) or previous (-1) candidate.
---@param step integer
function M.cycle(step)
  local bufnr = vim.api.nvim_get_current_buf()
  if native.attached(bufnr) then
    native.cycle(bufnr, step)
  else
    ghost.cycle(bufnr, step)
  end
end

--- Hides the suggestion until the next edit (reported to the server as dismissed).
function M.dismiss()
  local bufnr = vim.api.nvim_get_current_buf()
  if native.attached(bufnr) then
    native.dismiss(bufnr)
  else
    ghost.dismiss(bufnr)
  end
end

--- Turns suggestions off or on in every buffer.
---@param enabled boolean
function M.set_enabled(enabled)
  native.set_enabled(enabled)
  if not enabled then
    for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
      ghost.clear(bufnr)
    end
  end
end

--- Buffer-local insert-mode keys; a key with no suggestion on screen keeps its usual meaning.
---@param bufnr integer
---@param keys codegen.Keymaps
function M.set_keymaps(bufnr, keys)
  local function map(lhs, desc, action)
    if lhs then
      vim.keymap.set("i", lhs, function()
        if action() then
          return ""
        end
        return vim.api.nvim_replace_termcodes(lhs, true, false, true)
      end, { buffer = bufnr, expr = true, desc = "codegen: " .. desc })
    end
  end
  map(keys.accept, "accept suggestion", function() return M.accept("all") end)
  map(keys.accept_word, "accept next word", function() return M.accept("word") end)
  map(keys.accept_line, "accept line", function() return M.accept("line") end)
  local function map_plain(lhs, desc, fn)
    if lhs then
      vim.keymap.set("i", lhs, fn, { buffer = bufnr, desc = "codegen: " .. desc })
    end
  end
  map_plain(keys.next, "next suggestion", function() M.cycle(1) end)
  map_plain(keys.prev, "previous suggestion", function() M.cycle(-1) end)
  map_plain(keys.dismiss, "dismiss suggestion", M.dismiss)
end

return M
