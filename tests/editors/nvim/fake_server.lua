-- An in-process language server for the Neovim tests (`cmd` as a function, see
-- vim.lsp.ClientConfig): it answers every textDocument/inlineCompletion with the items
-- of CODEGEN_FAKE_ITEMS (a JSON list of texts, or of {"text", "cover"} where the item's
-- range also covers `cover` characters after the cursor), each with a fresh suggestion
-- id in its accept command as codegen-lsp sends them with the acceptance log on, and
-- records what the client reports in `_G.codegen_fake.events` (read by the tests).

local M = {}

local texts = vim.json.decode(os.getenv("CODEGEN_FAKE_ITEMS") or '["return 42"]')

_G.codegen_fake = { events = {}, answers = 0 }

local REPORTED = {
  ["textDocument/didShowCompletion"] = true,
  ["textDocument/didPartiallyAcceptCompletion"] = true,
  ["codegen/didRejectCompletion"] = true,
  ["codegen/didShowCompletion"] = true,
  ["codegen/didAcceptCompletion"] = true,
  ["codegen/didPartiallyAcceptCompletion"] = true,
}

local function record(method, params)
  table.insert(_G.codegen_fake.events, { method = method, params = params })
end

local function inline_items(params)
  _G.codegen_fake.answers = _G.codegen_fake.answers + 1
  local items = {}
  for i, entry in ipairs(texts) do
    local id = ("a%d-%d"):format(_G.codegen_fake.answers, i)
    local insert, cover = entry, 0
    if type(entry) == "table" then
      insert, cover = entry.text, entry.cover or 0
    end
    local position = params.position
    table.insert(items, {
      insertText = insert,
      range = { start = position, ["end"] = { line = position.line, character = position.character + cover } },
      command = { title = "codegen: suggestion accepted", command = "codegen.acceptCompletion", arguments = { id } },
    })
  end
  return { items = items }
end

local function answer(method, params)
  if method == "initialize" then
    return {
      capabilities = {
        positionEncoding = "utf-16",
        textDocumentSync = { openClose = true, change = 2 },
        inlineCompletionProvider = {},
        executeCommandProvider = { commands = { "codegen.acceptCompletion", "codegen.status" } },
      },
      serverInfo = { name = "fake" },
    }
  elseif method == "textDocument/inlineCompletion" then
    return inline_items(params)
  elseif method == "workspace/executeCommand" then
    if params.command == "codegen.status" then
      return { state = "ready", model = "fake-lua" }
    end
    record(params.command, params.arguments)
    return true
  end
  return vim.NIL
end

--- The `cmd` of the client configuration.
---@param dispatchers vim.lsp.rpc.Dispatchers
---@return vim.lsp.rpc.PublicClient
function M.cmd(dispatchers)
  local closing, next_id = false, 0
  return {
    request = function(method, params, callback, notify_reply_callback)
      next_id = next_id + 1
      local id = next_id
      vim.schedule(function()
        if notify_reply_callback then
          notify_reply_callback(id)
        end
        callback(nil, answer(method, params))
      end)
      return true, id
    end,
    notify = function(method, params)
      if REPORTED[method] then
        record(method, params)
      elseif method == "exit" then
        closing = true
        vim.schedule(function() dispatchers.on_exit(0, 0) end)
      end
      return true
    end,
    is_closing = function() return closing end,
    terminate = function() closing = true end,
  }
end

return M
