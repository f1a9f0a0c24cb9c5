--- The language server: registers and starts `codegen-lsp` for the configured
--- filetypes, and runs its commands.

local config = require("codegen.config")

local M = {}

M.name = "codegen"

local has_config_api = vim.lsp.config ~= nil and vim.lsp.enable ~= nil

--- The client configuration (`vim.lsp.Config` / `vim.lsp.ClientConfig`) for `opts`.
---@param opts codegen.Config
---@return table
function M.client_config(opts)
  local settings = config.server_settings(opts)
  return {
    name = M.name,
    cmd = config.cmd(opts),
    filetypes = opts.filetypes,
    root_markers = opts.root_markers,
    init_options = settings,
    settings = { codegen = settings },
  }
end

--- Makes the server start in every buffer of a configured filetype: with
--- vim.lsp.config/vim.lsp.enable on 0.11+, with a FileType autocmd and
--- vim.lsp.start on 0.10. Calling it again applies new options to new clients.
---@param opts codegen.Config
function M.register(opts)
  local client_config = M.client_config(opts)
  if has_config_api then
    vim.lsp.config(M.name, client_config)
    vim.lsp.enable(M.name)
    return
  end
  local group = vim.api.nvim_create_augroup("codegen.lsp", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = opts.filetypes,
    callback = function(args)
      local root = vim.fs.root(args.buf, opts.root_markers) or vim.fn.getcwd()
      vim.lsp.start(vim.tbl_extend("force", client_config, { root_dir = root }), { bufnr = args.buf })
    end,
  })
  -- Buffers opened before registration.
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) and vim.tbl_contains(opts.filetypes, vim.bo[buf].filetype) then
      vim.api.nvim_exec_autocmds("FileType", { group = group, buffer = buf })
    end
  end
end

--- The codegen client attached to `bufnr` (default: current), or any codegen client.
---@param bufnr integer?
---@return vim.lsp.Client?
function M.client(bufnr)
  local clients = vim.lsp.get_clients({ name = M.name, bufnr = bufnr or 0 })
  if #clients == 0 then
    clients = vim.lsp.get_clients({ name = M.name })
  end
  return clients[1]
end

--- Sends a request on 0.10 (client.request) and 0.11+ (client:request) alike.
---@param client vim.lsp.Client
---@param method string
---@param params table?
---@param handler fun(err: table?, result: any)
---@param bufnr integer?
---@return integer? request_id
function M.request(client, method, params, handler, bufnr)
  if vim.fn.has("nvim-0.11") == 1 then
    local _, id = client:request(method, params, handler, bufnr)
    return id
  end
  ---@diagnostic disable-next-line: param-type-mismatch
  local _, id = client.request(method, params, handler, bufnr)
  return id
end

--- Cancels a request on 0.10 and 0.11+ alike.
---@param client vim.lsp.Client
---@param id integer
function M.cancel(client, id)
  if vim.fn.has("nvim-0.11") == 1 then
    client:cancel_request(id)
  else
    ---@diagnostic disable-next-line: param-type-mismatch
    client.cancel_request(id)
  end
end

--- The byte index in `line` of an LSP `character` offset in `encoding`.
---@param line string
---@param character integer
---@param encoding string  "utf-8", "utf-16" or "utf-32"
---@return integer
function M.byte_index(line, character, encoding)
  if vim.fn.has("nvim-0.11") == 1 then
    return vim.str_byteindex(line, encoding, character, false)
  end
  ---@diagnostic disable-next-line: deprecated
  return vim.lsp.util._str_byteindex_enc(line, character, encoding)
end

--- Sends a notification on 0.10 (client.notify) and 0.11+ (client:notify) alike.
---@param client vim.lsp.Client
---@param method string
---@param params table
function M.notify(client, method, params)
  if vim.fn.has("nvim-0.11") == 1 then
    client:notify(method, params)
  else
    ---@diagnostic disable-next-line: param-type-mismatch
    client.notify(method, params)
  end
end

--- Runs an LSP `Command` (such as an inline completion item's) on the server, ignoring the answer.
---@param client vim.lsp.Client
---@param command lsp.Command
---@param bufnr integer?
function M.run_command(client, command, bufnr)
  M.request(client, "workspace/executeCommand", { command = command.command, arguments = command.arguments },
    function() end, bufnr)
end

--- The LSP `character` offset in `encoding` of the byte index `col` in `line`.
---@param line string
---@param col integer
---@param encoding string  "utf-8", "utf-16" or "utf-32"
---@return integer
function M.char_index(line, col, encoding)
  if vim.fn.has("nvim-0.11") == 1 then
    return vim.str_utfindex(line, encoding, col, false)
  end
  ---@diagnostic disable-next-line: deprecated
  return vim.lsp.util._str_utfindex_enc(line, col, encoding)
end

--- The LSP range in `bufnr` from the byte position (`row`, `col`) over the next `cover` bytes of that line.
---@param bufnr integer
---@param row integer  0-based
---@param col integer  0-based byte column
---@param cover integer
---@param encoding string
---@return lsp.Range
function M.range_at(bufnr, row, col, cover, encoding)
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
  local start = { line = row, character = M.char_index(line, col, encoding) }
  local stop = { line = row, character = M.char_index(line, math.min(col + cover, #line), encoding) }
  return { start = start, ["end"] = stop }
end

--- Runs a server command (workspace/executeCommand) and calls `on_result(err, result)`.
---@param command string
---@param arguments any[]?
---@param on_result fun(err: string?, result: any)
function M.execute(command, arguments, on_result)
  local client = M.client()
  if not client then
    on_result("the codegen server is not running: open a file of a configured filetype (see :checkhealth codegen)")
    return
  end
  M.request(client, "workspace/executeCommand", { command = command, arguments = arguments or {} },
    function(err, result)
      on_result(err and (err.message or vim.inspect(err)) or nil, result)
    end)
end

--- Like `execute` but waits (at most `timeout_ms`) for the answer.
---@param command string
---@param arguments any[]?
---@param timeout_ms integer?
---@return any result, string? err
function M.execute_sync(command, arguments, timeout_ms)
  local done, result, failure = false, nil, nil
  M.execute(command, arguments, function(err, res)
    done, result, failure = true, res, err
  end)
  if not vim.wait(timeout_ms or 5000, function() return done end, 20) then
    return nil, "no answer from the codegen server"
  end
  return result, failure
end

return M
