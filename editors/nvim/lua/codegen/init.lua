--- codegen for Neovim: inline suggestions, next-edit suggestions, docstrings and traceback explanations
--- from `codegen-lsp`, a language server running a code model on your machine.
---
--- ```lua
--- require("codegen").setup({ model = "builtin:tiny" })   -- optional
--- ```

local config = require("codegen.config")

local M = {}

---@type codegen.Config
M.options = vim.deepcopy(config.defaults)

local started = false

--- Merges `opts` into the options (see codegen.Config). It may be called any number
--- of times; when the plugin has already started, new options apply to new clients.
---@param opts codegen.Config|table|nil
function M.setup(opts)
  local merged, warnings = config.merge(opts, M.options)
  M.options = merged
  for _, warning in ipairs(warnings) do
    vim.notify(warning, vim.log.levels.WARN)
  end
  if started then
    require("codegen.lsp").register(M.options)
  end
end

--- Registers the server, the attach hook and the user commands (plugin/codegen.lua).
function M.start()
  if started then
    return
  end
  started = true
  require("codegen.lsp").register(M.options)
  vim.api.nvim_create_autocmd("LspAttach", {
    group = vim.api.nvim_create_augroup("codegen.attach", { clear = true }),
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == require("codegen.lsp").name then
        require("codegen.inline").attach(args.buf, client.id, M.options)
        require("codegen.next_edit").attach(args.buf, client.id, M.options.next_edit)
      end
    end,
  })
  require("codegen.commands").create()
end

return M
