--- What happens to each suggestion, reported to the server for its acceptance log, in
--- the shapes of Copilot's language server:
---
--- - shown: `textDocument/didShowCompletion` `{item}`, once per item put on screen;
--- - partly accepted: `textDocument/didPartiallyAcceptCompletion` `{item, acceptedLength}`,
---   the UTF-16 length of the prefix of the item's insertText taken so far;
--- - accepted: the item's own command (`codegen.acceptCompletion`), run when the whole
---   text is in, be it at once or by partial accepts;
--- - dismissed: `codegen/didRejectCompletion` `{id}` for the items shown and not taken.
---
--- An item is known by its accept command's argument (the suggestion id); items without
--- one (the server's acceptance log is off) are never reported. A new answer replaces
--- the previous one without any event: typing past a suggestion ignores it, it does
--- not dismiss it.

local lsp = require("codegen.lsp")
local text = require("codegen.text")

local M = {}

M.SHOWN = "textDocument/didShowCompletion"
M.PARTIAL = "textDocument/didPartiallyAcceptCompletion"
M.REJECTED = "codegen/didRejectCompletion"
M.ACCEPT_COMMAND = "codegen.acceptCompletion"

---@class codegen.Offer
---@field item table     the inline completion item as the server sent it
---@field shown boolean
---@field taken string   the prefix of its insertText accepted so far
---@field done boolean   accepted whole

---@class codegen.Answer
---@field client_id integer
---@field offers table<string, codegen.Offer>

---@type table<integer, codegen.Answer>
local answers = {}

--- The suggestion id of an item (its accept command's first argument), or nil.
---@param item table?  an LSP item, or a vim.lsp.inline_completion.Item
---@return string?
function M.id(item)
  local command = type(item) == "table" and item.command or nil
  if type(command) ~= "table" or command.command ~= M.ACCEPT_COMMAND then
    return nil
  end
  local args = command.arguments
  return type(args) == "table" and type(args[1]) == "string" and args[1] or nil
end

--- The text an LSP item inserts.
---@param item table
---@return string
function M.insert_text(item)
  local insert = item.insertText
  return type(insert) == "table" and insert.value or insert or ""
end

--- The offer of `item` in the answer on screen in `bufnr`, and the client it came from.
---@return codegen.Offer?, vim.lsp.Client?
local function find(bufnr, item)
  local answer = answers[bufnr]
  local id = M.id(item)
  local offer = answer and id and answer.offers[id]
  if not offer then
    return nil, nil
  end
  return offer, vim.lsp.get_client_by_id(answer.client_id)
end

--- A new answer (a list of LSP items from `client_id`) replaces the one in `bufnr`.
---@param bufnr integer
---@param client_id integer
---@param items table[]
function M.offer(bufnr, client_id, items)
  local offers = {}
  for _, item in ipairs(items) do
    local id = M.id(item)
    if id then
      offers[id] = { item = item, shown = false, taken = "", done = false }
    end
  end
  answers[bufnr] = { client_id = client_id, offers = offers }
end

--- `item` is on screen: reported once per item.
---@param bufnr integer
---@param item table
function M.shown(bufnr, item)
  local offer, client = find(bufnr, item)
  if offer and client and not offer.shown then
    offer.shown = true
    lsp.notify(client, M.SHOWN, { item = offer.item })
  end
end

--- `item` was accepted whole by code that runs its command itself.
---@param bufnr integer
---@param item table
function M.accepted(bufnr, item)
  local offer = find(bufnr, item)
  if offer then
    offer.done = true
  end
end

--- `prefix` of the text `item` shows is now in the buffer. `item` is the suggestion as
--- the server sent it, or what is left of it after earlier partial accepts (same id).
--- Reports a partial accept, or, once the whole text is in, runs the accept command.
---@param bufnr integer
---@param item table
---@param prefix string
function M.took(bufnr, item, prefix)
  local offer, client = find(bufnr, item)
  if not offer or not client or offer.done or prefix == "" then
    return
  end
  local taken = offer.taken .. prefix
  if #taken >= #M.insert_text(offer.item) then
    offer.done = true
    lsp.run_command(client, offer.item.command, bufnr)
    return
  end
  offer.taken = taken
  lsp.notify(client, M.PARTIAL, { item = offer.item, acceptedLength = text.utf16_len(taken) })
end

--- The user dismissed what was on screen in `bufnr`: every item shown and not taken
--- (not even partly) is reported rejected, and the answer is forgotten.
---@param bufnr integer
function M.dismissed(bufnr)
  local answer = answers[bufnr]
  answers[bufnr] = nil
  local client = answer and vim.lsp.get_client_by_id(answer.client_id)
  if not client then
    return
  end
  for id, offer in pairs(answer.offers) do
    if offer.shown and not offer.done and offer.taken == "" then
      lsp.notify(client, M.REJECTED, { id = id })
    end
  end
end

--- Forgets the answer in `bufnr` without any event (it was replaced or accepted).
---@param bufnr integer
function M.forget(bufnr)
  answers[bufnr] = nil
end

return M
