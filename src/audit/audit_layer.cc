// layer audit
